"""Aliases: see the README's section on releases, schedules and webhooks."""

from fastapi import APIRouter

router = APIRouter(tags=["aliases"])
