import collections
import tests.test_lifecycle_stateful as t
from hypothesis import settings, HealthCheck
from hypothesis.stateful import run_state_machine_as_test
N = collections.Counter()
orig_init = t.VoucherLife.__init__
def init(self):
    N["examples"] += 1
    orig_init(self)
orig_reject = t.VoucherLife.reject
def test_x(app, monkeypatch):
    monkeypatch.setattr(t.VoucherLife, "__init__", init)
    for n in (15, 20, 40):
        N.clear(); t.REACHED.clear()
        run_state_machine_as_test(t.VoucherLife, settings=settings(
            max_examples=n, stateful_step_count=30, deadline=None, database=None,
            derandomize=True, suppress_health_check=[HealthCheck.too_slow]))
        print(n, dict(N), sorted(t.REACHED))
