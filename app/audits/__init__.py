"""Audits (the evaluation step of ISO/IEC 17065), decisions by a different person, and the
surveillance schedule that follows a granted decision."""
