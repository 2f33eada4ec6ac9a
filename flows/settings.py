"""Dialog limits and texts the merchant may tune."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BindingSettings(Strict):
    code_ttl_minutes: int = Field(default=10, ge=1, le=60)
    wrong_attempts: int = Field(default=5, ge=1, le=50)
    wrong_attempts_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    codes_per_visitor_per_hour: int = Field(default=10, ge=1, le=100)


class FlowSettings(Strict):
    binding: BindingSettings = BindingSettings()
    auto_reply_interval_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    proof_wait_minutes: int = Field(default=30, ge=1, le=24 * 60)
    sweep_interval_seconds: float = Field(default=5.0, ge=0.1, le=600)


class TextOverrides(Strict):
    """Merchant wording for a few key texts; empty means the catalog's default."""

    binding_success: str = Field(default="", max_length=500)
    auto_reply: str = Field(default="", max_length=500)
