"""API tokens: admins list, issue (the secret shown once) and revoke them."""

from __future__ import annotations

from flask import Response

from ...articles import utcnow
from ...domain import Role
from ...schemas import TokenCreated, TokenIn, TokenList, TokenOut
from ...tokens import issue_token
from ..openapi import Reply, operation
from ..scope import current_store
from .common import TOKEN_ID, body, bp, commit, out, requires, respond


@bp.get("/tokens")
@requires(Role.ADMIN)
@operation(Reply(200, "OK", TokenList))
def list_tokens() -> Response:
    """List API tokens (admin)."""
    return respond(TokenList(items=[out(TokenOut, t) for t in current_store().tokens.all()]))


@bp.post("/tokens")
@requires(Role.ADMIN)
@operation(Reply(201, "Created", TokenCreated), body=TokenIn)
def create_token() -> Response:
    """Create an API token (admin); the secret is shown once."""
    doc = body(TokenIn)
    token, secret = issue_token(
        current_store(), doc.name, doc.role, doc.languages, expires_at=doc.expires_at
    )
    commit()
    return respond(out(TokenCreated, token, token=secret), 201)


@bp.delete(f"/tokens/{TOKEN_ID}")
@requires(Role.ADMIN)
@operation(Reply(204, "Revoked"), errors=[404])
def revoke_token(token_id: int) -> Response:
    """Revoke an API token (admin)."""
    current_store().tokens.revoke(token_id, utcnow())
    commit()
    return Response(status=204)
