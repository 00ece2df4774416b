"""The small HTML pages: the login form, the account page and the /authorize form.

Every value put into the HTML goes through ``escape``: a user name or a ``state`` parameter
is attacker-chosen text, not markup.
"""

from __future__ import annotations

from html import escape

STYLE = """<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto}
label{display:block;margin:.5rem 0}input{font:inherit}.error{color:#b00020}</style>"""


def _page(title: str, body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"{head}{STYLE}</head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _credentials() -> str:
    return (
        "<label>Username <input id='username' name='username' autocomplete='username' "
        "required maxlength='64'></label>"
        "<label>Password <input id='password' name='password' type='password' "
        "autocomplete='current-password' required></label>"
        "<label>One-time code (if enabled) <input id='otp' name='otp' "
        "autocomplete='one-time-code' maxlength='32'></label>"
    )


def login(csrf: str, error: str = "") -> str:
    message = f"<p class='error' id='error'>{escape(error)}</p>" if error else ""
    return _page(
        "Sign in",
        f"{message}<form id='login' method='post' action='/login'>{_credentials()}"
        f"<input type='hidden' name='csrf' value='{escape(csrf)}'>"
        "<button type='submit'>Sign in</button></form>",
    )


ACCOUNT_SCRIPT = """<script>
// The CSRF token is in the page, which only this origin can read; the session cookie is
// HttpOnly, which no script can read. A write needs both.
async function newOrder() {
  const token = document.querySelector("meta[name=csrf-token]").content;
  const response = await fetch("/orders", {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
    body: JSON.stringify({item: document.getElementById("item").value, quantity: 1}),
  });
  const body = await response.json();
  document.getElementById("result").textContent =
    response.ok ? `order ${body.id} created` : `${response.status} ${body.error.code}`;
}
</script>"""


def account(username: str, roles: list[str], csrf: str) -> str:
    head = f"<meta name='csrf-token' content='{escape(csrf)}'>{ACCOUNT_SCRIPT}"
    body = (
        f"<p id='who'>Signed in as {escape(username)}</p>"
        f"<p id='roles'>Roles: {escape(', '.join(roles) or 'none')}</p>"
        "<label>Item <input id='item' value='notebook' maxlength='100'></label>"
        "<button id='order' onclick='newOrder()'>New order</button> <span id='result'></span>"
        "<form id='logout' method='post' action='/logout'>"
        f"<input type='hidden' name='csrf' value='{escape(csrf)}'>"
        "<button type='submit'>Sign out</button></form>"
    )
    return _page("Account", body, head)


def authorize(params: dict[str, str], issuer: str, error: str = "") -> str:
    hidden = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>"
        for k, v in params.items()
        if k in ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                 "code_challenge_method")
    )  # fmt: skip
    message = f"<p class='error'>{escape(error)}</p>" if error else ""
    return _page(
        f"{issuer}: sign in to continue",
        f"<p>Application <b>{escape(params['client_id'])}</b> asks to act for you.</p>"
        f"{message}<form method='post' action='/authorize'>{hidden}{_credentials()}"
        "<button type='submit'>Allow</button></form>",
    )
