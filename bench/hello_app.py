"""The reference of the HTTP benchmarks: the least a Flask app under gunicorn does."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, world!"
