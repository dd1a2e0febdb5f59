"""Messages on an application: the thread between applicant and managers, and the
managers' internal notes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .applications import Application
from .base import timestamp, utcnow
from .people import User


class ApplicationMessage(db.Model):
    """One message of an application's thread, or (internal) a note only managers see."""

    __tablename__ = "application_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship()
    author: Mapped[User] = relationship()
    attachments: Mapped[list[MessageAttachment]] = relationship(
        back_populates="message", order_by="MessageAttachment.id", cascade="all, delete-orphan")

    __table_args__ = (
        Index("ix_application_messages_thread", "application_id", "internal", "id"),
    )


class MessageAttachment(db.Model):
    """A file sent with a message, stored like an application's attachments."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("application_messages.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    uploaded_at: Mapped[timestamp] = mapped_column(default=utcnow)

    message: Mapped[ApplicationMessage] = relationship(back_populates="attachments")
