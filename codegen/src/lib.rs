//! Tributary's generator (work in progress).
