"""Accounts: first-start setup, sign-in and out, users (owner only), personal API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Response, g

from engine.passwords import WeakPassword
from engine.service.accounts import AccountOperations
from engine.store import ApiToken, LastOwner, User
from webui import auth
from webui.api.models import (
    AuthState,
    LoginIn,
    PasswordChange,
    PasswordCheckIn,
    PasswordCheckOut,
    SetupIn,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from webui.api.problems import ApiError
from webui.api.routing import answer, json_body, no_content, route
from webui.app import current_service


def user_out(user: User) -> UserOut:
    # Validated, not cast: the store's role is any text, the answer's one of three.
    return UserOut.model_validate(
        {"id": user.id, "email": user.email, "name": user.name, "role": user.role}
    )


def _accounts() -> AccountOperations:
    return current_service().accounts


@contextmanager
def _password_at(path: str) -> Iterator[None]:
    """Answer a password the rule refuses with 422 at ``path`` of the body."""
    try:
        yield
    except WeakPassword as weak:
        raise ApiError(422, "invalid", f"{path}: {weak}", path=path) from None


@route("/auth/state", "GET", answer=AuthState)
def auth_state() -> Response:
    """Whether setup is needed, who is signed in, and the CSRF token of the session."""
    principal = auth.authenticate()
    session = principal.session if principal else None
    return answer(
        AuthState(
            needs_setup=_accounts().needs_setup(),
            user=user_out(principal.user) if principal else None,
            csrf_token=session.csrf_token if session else None,
        )
    )


@route("/auth/setup", "POST", body=SetupIn, answer=UserOut, status=201)
def auth_setup() -> Response:
    """Create the owner account on first start (only while no user exists); signs in."""
    given = json_body(SetupIn)
    with _password_at("password"):
        user = _accounts().set_up_owner(given.email, given.name, given.password)
    if user is None:
        raise ApiError(409, "conflict", "setup is done: an account exists already; sign in")
    return _signed_in(user, 201)


@route("/auth/login", "POST", body=LoginIn, answer=UserOut)
def auth_login() -> Response:
    """Sign in with email and password (5 failures per email in 5 minutes: 429)."""
    given = json_body(LoginIn)
    throttle = auth.login_throttle()
    wait = throttle.retry_after(given.email)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            "too many failed sign-ins for this email; wait and try again",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    user = _accounts().check_login(given.email, given.password)
    if user is None:
        throttle.failed(given.email)
        raise ApiError(401, "unauthorized", "wrong email or password")
    throttle.succeeded(given.email)
    return _signed_in(user, 200)


@route("/auth/password-check", "POST", body=PasswordCheckIn, answer=PasswordCheckOut)
def check_password() -> Response:
    """Judge a password by the rule without storing anything, as the user types it (first
    start, Account, a teammate's first password). Signed in, one's own email and name count
    as guessable too, as when the password is set."""
    given = json_body(PasswordCheckIn)
    principal = auth.authenticate()
    email, name = given.email, given.name
    if principal is not None and not email and not name:
        email, name = principal.user.email, principal.user.name
    problem = _accounts().password_problem(given.password, email=email, name=name)
    return answer(PasswordCheckOut(ok=problem is None, problem=problem))


@route("/auth/password", "POST", body=PasswordChange, answer=UserOut)
def change_password() -> Response:
    """Change one's own password (the current one is checked, with the sign-in throttle; a
    browser session only). Every other session and every API token of the user end; this
    session continues under a new session id."""
    given = json_body(PasswordChange)
    user = g.principal.user
    throttle = auth.login_throttle()
    wait = throttle.retry_after(user.email)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            "too many wrong passwords; wait and try again",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    if not auth.verify_password(given.current_password, user.password_hash):
        throttle.failed(user.email)
        raise ApiError(403, "forbidden", "the current password is wrong", path="current_password")
    with _password_at("new_password"):
        user = _accounts().set_password(user, given.new_password)
    return _signed_in(user, 200)


@route("/auth/logout", "POST", status=204)
def auth_logout() -> Response:
    """Sign out: the session ends server-side and its cookie is deleted."""
    response = no_content()
    auth.end_session(response)
    return response


def _signed_in(user: User, status: int) -> Response:
    response = answer(user_out(user), status)
    session = auth.start_session(user, response)
    response.headers[auth.CSRF_HEADER] = session.csrf_token
    return response


# -- users ------------------------------------------------------------------------------------


@route("/users", "GET", answer=list[UserOut])
def list_users() -> Response:
    """Every user."""
    return answer([user_out(user) for user in _accounts().list_users()])


@route("/users", "POST", body=UserIn, answer=UserOut, status=201)
def create_user() -> Response:
    """Add a user with a role and a first password (by the password rule)."""
    given = json_body(UserIn)
    with _password_at("password"):
        user = _accounts().create_user(given.email, given.name, given.role, given.password)
    return answer(user_out(user), 201)


@route("/users/<int:user_id>", "PATCH", body=UserPatch, answer=UserOut)
def update_user(user_id: int) -> Response:
    """Change a user's email, name, password or role. A new password (the owner's reset) ends
    the user's sessions and revokes their API tokens; a new role ends their sessions."""
    given = json_body(UserPatch)
    changes = given.model_dump(exclude_none=True, exclude={"password"})
    with _password_at("password"), _last_owner_kept():
        user = _accounts().update_user(user_id, changes, password=given.password)
    return answer(user_out(user))


@route("/users/<int:user_id>", "DELETE", status=204)
def delete_user(user_id: int) -> Response:
    """Delete a user with their tokens and sessions (the last owner cannot be deleted)."""
    with _last_owner_kept():
        _accounts().delete_user(user_id)
    return no_content()


@contextmanager
def _last_owner_kept() -> Iterator[None]:
    """The store refuses, atomically, to demote or delete the last owner: answer 409."""
    try:
        yield
    except LastOwner as error:
        raise ApiError(409, "conflict", str(error), path="role") from None


# -- API tokens -------------------------------------------------------------------------------


def token_out(token: ApiToken, text: str | None = None) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        expired=token.expires_at <= current_service().clock(),
        token=text,
    )


@route("/tokens", "GET", answer=list[TokenOut])
def list_tokens() -> Response:
    """The signed-in user's API tokens, expired ones too (never their text)."""
    tokens = _accounts().list_api_tokens(g.principal.user.id)
    return answer([token_out(token) for token in tokens])


@route("/tokens", "POST", body=TokenIn, answer=TokenOut, status=201)
def create_token() -> Response:
    """A new API token for the signed-in user (a browser session only: a token cannot make
    tokens), expiring after ``expires_in_days``; its text is in this answer only."""
    given = json_body(TokenIn)
    token, text = _accounts().issue_api_token(g.principal.user, given.name, given.expires_in_days)
    return answer(token_out(token, text), 201)


@route("/tokens/<int:token_id>", "DELETE", status=204)
def delete_token(token_id: int) -> Response:
    """Revoke one of the signed-in user's tokens."""
    _accounts().revoke_api_token(g.principal.user.id, token_id)
    return no_content()
