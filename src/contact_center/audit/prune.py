"""Pruning the audit log (docs/audit-chain.md, "Pruning"): the retention purge removes audit
rows older than its cutoff, only as a prefix of the chain (oldest links first, sealed rows only,
never a row not older than the cutoff), and records a prune point (the last pruned link's seq
and hash, authenticated with AUDIT_MAC_KEY) from which `verify` goes on."""

from __future__ import annotations

import hmac
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contact_center.audit import chain, repository
from contact_center.errors import Conflict
from contact_center.keys import audit_mac

log = structlog.get_logger(__name__)


async def count_expired(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
    """How many audit rows the purge would remove: the links after the prune point up to the
    first whose row is not older than `cutoff` (rows sealed later stay, whatever their age)."""
    point = await repository.prune_point(session)
    after = 0 if point is None else point.seq
    return await repository.count_links(
        session, after, await repository.first_young(session, after, cutoff)
    )


async def purge_batch(session: AsyncSession, cutoff: datetime, now: datetime, limit: int) -> int:
    """Remove up to `limit` audit rows of the chain's expired prefix in the caller's
    transaction; how many (0: nothing left to prune). Each link is checked before it goes (its
    hash from the previous link's, its row's mac): pruning stops before a broken link, so the
    evidence of a change stays for `verify` to report."""
    await repository.lock_sealing(session)
    point = await repository.prune_point(session)
    start = after = 0 if point is None else point.seq
    previous = chain.GENESIS if point is None else point.hash
    young = await repository.first_young(session, after, cutoff)
    upto = after + limit if young is None else min(young - 1, after + limit)
    if upto <= after:
        return 0
    links = await chain.links(session, after, upto, limit)
    if not links:
        return 0
    key = audit_mac.current()
    if key is None:
        raise Conflict("The audit MAC key is not loaded: audit rows cannot be pruned.")
    keyed = hmac.new(key, digestmod="sha256")
    for seq, stored_hash, _, body, row_mac in links:
        if seq != after + 1 or body is None:
            break
        if chain.link(previous, body, row_mac, seq) != stored_hash:
            break
        if row_mac is not None:
            digest = keyed.copy()
            digest.update(body)
            if not hmac.compare_digest(row_mac, digest.hexdigest()):
                break
        previous, after = stored_hash, seq
    pruned = after - start
    if not pruned:
        return 0
    await repository.add_prune_point(
        session,
        {
            "seq": after,
            "hash": previous,
            "rows": pruned,
            "cutoff": cutoff,
            "pruned_at": now,
            "mac": chain.prune_point_mac(key, after, previous, pruned, cutoff),
        },
    )
    removed = await repository.delete_pruned(session, start, after)
    log.info("audit_pruned", rows=removed, seq=after)
    return pruned
