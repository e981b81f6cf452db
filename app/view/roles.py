"""What the caller's role lets them do, so a page offers only what the API will accept.

The roles rank `viewer` < `developer` < `admin` (the README's table; the API's `require_role`):
a viewer reads, a developer also runs, cancels, decides approvals and publishes, an admin also
manages API keys. A platform admin may do everything.
"""

RANKS = {"viewer": 0, "developer": 1, "admin": 2}
WRITER = "developer"


def may(role: str, needed: str, platform_admin: bool = False) -> bool:
    """Whether `role` may do what needs `needed` (an unknown role may do nothing)."""
    if platform_admin:
        return True
    return RANKS.get(role, -1) >= RANKS.get(needed, len(RANKS))


def who_may(needed: str, action: str) -> str:
    """Why an action is disabled, for its tooltip: `Only a developer or an admin can cancel.`"""
    allowed = [role for role, rank in RANKS.items() if rank >= RANKS[needed]]
    names = " or an ".join(allowed) if len(allowed) <= 2 else ", ".join(allowed)
    article = "an" if allowed[0][0] in "aeiou" else "a"
    return f"Only {article} {names} can {action}."
