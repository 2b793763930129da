//! Proc macros (work in progress).
