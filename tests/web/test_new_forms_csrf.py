"""Every state-changing route of the community and tournament blueprints refuses a forged POST (no CSRF
token), found from the URL map so that a route added later is covered too. The one
exception is the one-click unsubscribe, whose signed token is its credential (RFC 8058
mail clients POST without a session or a form)."""
from __future__ import annotations

import re

from forecasts.models import Follow, Forecast, User

BLUEPRINTS = ("comments", "notifications", "account", "follows", "tournaments")
EXEMPT = {"notifications.unsubscribe_confirm"}
VALUES = {"slug": "strike-open", "comment_id": "1", "token": "not-a-token", "username": "alice"}


def _posts(app):
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".", 1)[0]
        if blueprint in BLUEPRINTS and "POST" in (rule.methods or ()):
            yield rule.endpoint, re.sub(r"<(?:\w+:)?(\w+)>", lambda m: VALUES[m.group(1)], rule.rule)


def test_every_new_post_route_needs_a_csrf_token(app, web, world, session):
    routes = dict(_posts(app))
    assert len(routes) >= 12, sorted(routes)  # the forms of #12 are all found
    before = (session.query(Forecast).count(), session.query(Follow).count(),
              [(u.email, u.hide_crowd, u.notify_reply) for u in session.query(User)])
    session.commit()  # end the read, so the app can write
    web.login("alice")
    for endpoint, path in sorted(routes.items()):
        if endpoint in EXEMPT:
            continue
        forged = web.client.post(path, data={"body": "x", "email": "a@b.example",
                                             "password": "x", "confirm": "x"})
        assert forged.status_code == 400 and "did not come from this site" in forged.text, \
            (endpoint, path, forged.status_code)
    session.expire_all()
    assert (session.query(Forecast).count(), session.query(Follow).count(),
            [(u.email, u.hide_crowd, u.notify_reply) for u in session.query(User)]) == before


def test_the_one_click_unsubscribe_is_the_only_exempt_route(app):
    assert EXEMPT <= dict(_posts(app)).keys()
