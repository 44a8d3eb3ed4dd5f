"""The model lab's endpoints (to be written)."""

from fastapi import APIRouter

router = APIRouter()
