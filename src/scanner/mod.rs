//! Nonce search, in one folder: [`single`] scans one header's nonce range on the calling
//! thread ([`scan`], [`Backend::scan`](crate::Backend::scan)); `threaded` (feature
//! `rayon`) is the multi-threaded [`Scanner`], which splits a range or rolls a
//! [`WorkSource`](crate::source::WorkSource) across its own thread pool.
//!
//! Both report [`Hit`]s that were re-checked with a full hash and an exact 256-bit
//! compare.

pub mod single;
#[cfg(feature = "rayon")]
mod threaded;

pub use single::{Hit, scan};
#[cfg(feature = "rayon")]
pub use threaded::*;
