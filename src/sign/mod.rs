//! Request signing.
