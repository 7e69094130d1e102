#!/usr/bin/env python3
"""The seven examples of the "Running Actions" page, from Python, through `ductape serve`.

Standard library only. Needs a running server and a key that may run them (an admin key, or run keys per product):

    DUCTAPE_URL=http://127.0.0.1:8080 DUCTAPE_KEY=dtk_... python3 examples/python/seed_examples.py

The workspace must hold the seed's products and apps, and the example API they point at must be up:
`npm run demo -- --serve` defines and serves both and prints this command line with a key. A workspace of your own
needs, for the session example, the `user-session` type of product `dashboard` and, for the cache example, the
`products-list` cache of `catalog`.
"""
import json
import os
import sys
import urllib.error
import urllib.request

URL = os.environ.get("DUCTAPE_URL", "http://127.0.0.1:8080").rstrip("/")
KEY = os.environ["DUCTAPE_KEY"]


class DuctapeError(Exception):
    """An error answer of the server: {"error": {"code", "message", ...}}."""

    def __init__(self, status, error):
        super().__init__(f"{error.get('code')}: {error.get('message')} (HTTP {status})")
        self.status = status
        self.code = error.get("code")
        self.error = error


def call(path, body):
    """POSTs JSON to the server with the key; returns the parsed answer or raises DuctapeError."""
    request = urllib.request.Request(
        URL + path,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        payload = json.load(err)
        raise DuctapeError(err.code, payload.get("error", {})) from None


def run(**run_input):
    """ductape.actions.execute over HTTP: the envelope {status, headers, data, attempts, cached, durationMs, request}."""
    return call("/v1/actions/run", run_input)


def show(title, envelope):
    request = envelope["request"]
    print(f"ok  {title}: {request['method']} {request['url']} -> {envelope['status']}"
          f"{' (cached)' if envelope['cached'] else ''} {json.dumps(envelope['data'])[:120]}")
    if not 200 <= envelope["status"] < 300:
        sys.exit(f"{title}: expected a 2xx answer")
    return envelope


def main():
    # Quick example
    show("Quick example", run(env="dev", product="my-product", app="stripe-app", event="create_customer",
                              input={"body": {"email": "john@example.com", "name": "John Doe"}}))
    # Sending data in the request body
    show("Request body", run(env="prd", product="payments", app="stripe", event="create_payment_intent",
                             input={"body": {"amount": 2000, "currency": "usd", "customer": "cus_123"}}))
    # Using query parameters
    show("Query parameters", run(env="dev", product="crm", app="hubspot", event="search_contacts",
                                 input={"query": {"email": "jane@example.com", "limit": 10}}))
    # With route parameters
    show("Route parameters", run(env="dev", product="inventory", app="shopify", event="get_product",
                                 input={"params": {"productId": "12345"}}))
    # With custom headers
    show("Custom headers", run(env="prd", product="api-gateway", app="internal-api", event="fetch_user",
                               input={"headers": {"X-Request-ID": "req_abc123"}, "params": {"userId": "456"}}))
    # With session tracking: the backend starts a session for its user, then runs on the user's behalf.
    session = call("/v1/sessions/start", {"product": "dashboard", "env": "prd", "tag": "user-session",
                                          "data": {"user": {"id": "42"}}})
    show("Session tracking", run(env="prd", product="dashboard", app="analytics", event="get_user_stats",
                                 input={"params": {"userId": "$Session{user}{id}"}},
                                 session={"tag": "user-session", "token": session["token"]}))
    # With caching and retries: the second identical run is answered from the cache.
    cached = dict(env="prd", product="catalog", app="products-api", event="list_products",
                  input={"query": {"category": "electronics"}}, cache="products-list", retries=3)
    show("Caching and retries (first run)", run(**cached))
    again = show("Caching and retries (second run)", run(**cached))
    if not again["cached"]:
        sys.exit("the second identical run should come from the cache")

    # Errors come back as DuctapeError with the code and status of docs/serve.md.
    try:
        run(env="dev", product="payments", app="stripe", event="create_payment_intent",
            input={"body": {"amount": 0, "currency": "yen"}})
        sys.exit("invalid input should have been refused")
    except DuctapeError as err:
        print(f"ok  Invalid input refused: HTTP {err.status} {err.code}")
    print("all seed examples passed")


if __name__ == "__main__":
    main()
