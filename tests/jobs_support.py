"""Following a job through its pages, as a manager's browser does: the POST that asks for
the file answers 303 to the job's page; once the in-process runner has made the file, that
page offers it and the download answers it."""

from __future__ import annotations

import re

from vouchers.jobs import runner


def job_path(response) -> str:
    """The job page a POST asking for a file sent the browser to."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert re.search(r"/manage/files/\d+$", location), location
    return location


def follow_job(client, response):
    """The download of the job ``response`` redirected to, once made (a response to close)."""
    page_url = job_path(response)
    runner.drain(client.application)
    page = client.get(page_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Download" in html, html[:3000]
    assert f'href="{page_url}/download"' in html
    return client.get(f"{page_url}/download")


def post_and_download(client, url: str, data: dict | None = None):
    return follow_job(client, client.post(url, data=data or {}))
