//! Where progressions come from: the [`PhraseSource`] trait the worker asks, the fallback that
//! only plays what was loaded, and the seed sequence Regenerate walks.

use crate::music::knobs::Knobs;
use crate::music::progression::Progression;
use std::path::Path;

/// Where progressions come from. The neural decoder's adapter implements it
/// ([`super::neural::NeuralSource`]); [`LoadedProgression`] plays only what was loaded.
pub trait PhraseSource: Send {
    /// A short name for the status line, e.g. "embedded model".
    fn name(&self) -> &str;

    /// Something the user should know about how the source was built (e.g. their model folder
    /// was refused and the built-in model is used instead).
    fn warning(&self) -> Option<String> {
        None
    }

    /// The progression for `knobs` and `seed`, or None when there is nothing to play.
    /// `playing` is the progression playing now (the locks keep parts of it). An error is a
    /// message for the user; the current phrase keeps playing.
    fn progression(
        &mut self,
        knobs: &Knobs,
        seed: u64,
        playing: Option<&Progression>,
    ) -> Result<Option<Progression>, String>;

    /// Prepares what [`PhraseSource::choose`] needs (e.g. loads a graph), so the first new
    /// seed is not slowed by it. The worker calls it once, when it is idle.
    fn warm_up(&mut self) {}

    /// For a new seed: the seed of the phrase to play instead, chosen among candidates for
    /// landing closest to the knobs, and the others (None: this source has no candidates,
    /// play `seed`). [`PhraseSource::progression`] with the chosen seed writes the chosen
    /// phrase.
    fn choose(
        &mut self,
        _knobs: &Knobs,
        _seed: u64,
        _playing: Option<&Progression>,
    ) -> Result<Option<Choice>, String> {
        Ok(None)
    }
}

/// What [`PhraseSource::choose`] chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The seed to play.
    pub seed: u64,
    /// The other candidates, closest first.
    pub alternatives: Vec<Alternative>,
}

/// A candidate not chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    /// Its seed: [`PhraseSource::progression`] with it writes this phrase.
    pub seed: u64,
    /// The phrase.
    pub progression: Progression,
    /// Its measured energy, 0–1.
    pub energy: f64,
    /// Its measured valence, 0–1.
    pub valence: f64,
}

/// Plays the progression already playing (loaded from a file or a saved project).
#[derive(Debug, Default)]
pub struct LoadedProgression;

impl PhraseSource for LoadedProgression {
    fn name(&self) -> &str {
        "loaded progression"
    }

    fn progression(
        &mut self,
        _knobs: &Knobs,
        _seed: u64,
        playing: Option<&Progression>,
    ) -> Result<Option<Progression>, String> {
        Ok(playing.cloned())
    }
}

/// Builds the worker's phrase source on the worker thread, from the user's model folder if
/// one is chosen (again each time the user picks another).
pub type SourceFactory =
    Box<dyn FnMut(Option<&Path>) -> Result<Box<dyn PhraseSource>, String> + Send>;

/// The next seed after `seed` (SplitMix64): Regenerate walks a fixed sequence, so a session
/// can be reproduced from its first seed.
pub fn next_seed(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
