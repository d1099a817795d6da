//! Rating studies, from the files to the paper's Table 3: the study a page runs
//! ([`format`]), one rater going through it ([`rating`]), each rater's answers ([`session`]), DMOS by eq. 4–6 ([`dmos`]) and BT.500
//! observer screening ([`screening`]). Native and wasm32 alike: the page, `srkd serve` and
//! `srkd dmos` all compute with this code.

pub mod dmos;
pub mod format;
pub mod rating;
pub mod screening;
pub mod session;
mod stats;

pub use dmos::{DmosCell, DmosOptions, DmosTable, Exclusion, REFERENCE_SANITY_LABEL, compute_dmos};
pub use format::*;
pub use rating::{Answer, OpenError, RatingFlow, RatingStage, ServerAnswer};
pub use screening::Screening;
pub use session::{GOLD, REFERENCE, RaterSession, Rating, check_sessions};
