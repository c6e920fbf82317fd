//! The harmony listener: what the musician is playing, in the product's own terms.
//!
//! Two pieces, both safe to call on the **audio thread** (no allocation, lock, syscall or
//! unbounded loop; no panic for any input; deterministic):
//!
//! * [`chord`]: [`recognize`] turns the set of sounding pitch classes (and the lowest one, as a
//!   hint) into a [`HeardChord`]: a root, one of the eight [`Quality`] tokens, and the
//!   extensions heard. [`name`] spells it like the progression's chords ("Dm9", "G13",
//!   "F#m7b5") and [`to_numeral`] turns it into the [`Chord`] numeral the decoder's chord locks
//!   take.
//! * [`key`]: [`KeyEstimator`] keeps a decaying pitch-class histogram of the notes played and
//!   estimates the key and mode with the Krumhansl–Schmuckler method, with hysteresis so the
//!   estimate does not flicker.
//!
//! Nothing here knows about plugins or threads: the caller owns a `KeyEstimator` (under a
//! hundred bytes, `Copy`) and calls these functions from whichever thread reads the input
//! notes.
//!
//! # Wiring it up
//!
//! * Keep the input note table (per channel and key) the sequencer already needs. Whenever it
//!   changes, OR the sounding keys into a pitch-class mask (`1 << (key % 12)`) and pass the
//!   lowest sounding key's pitch class as the bass hint: `recognize(mask, Some(lowest % 12))`.
//!   If a bass part arrives on its own channel, its note is the better hint (it need not be in
//!   the mask: the hint is added to the set).
//! * At each note-off, `KeyEstimator::add(key % 12, held_beats)`; at each host bar line,
//!   `end_bar()`. Read `key()` whenever the generator wants a key.
//! * Gate on [`HeardChord::confidence`] before locking a chord: a complete chord with no rival
//!   reading is 1.0, each unit of cost takes 0.1 off, a two-note chord is at most 0.54 and a
//!   reading decided by a tie rule at most 0.5; so ≥ 0.6 keeps triads, sevenths and their
//!   usual extensions and drops dyads and coin-flips.
//! * [`HeardName`] is inline and `Copy`: safe to build on the audio thread and hand to the
//!   editor through a latest-value cell. `{}` prints "Dm9", `{:#}` adds the bass ("C/E").
//!
//! [`Quality`]: crate::music::progression::Quality
//! [`Chord`]: crate::music::progression::Chord

pub mod chord;
pub mod key;

#[cfg(test)]
mod voicing_table;

pub use chord::{bass_name, name, recognize, to_numeral, HeardChord, HeardName};
pub use key::KeyEstimator;
