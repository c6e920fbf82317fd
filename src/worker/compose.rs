//! One way to write a phrase. The worker, the plugin's activation, the command line and the
//! export tests all go through these two functions, with [`Knobs`] whose defaults are the
//! plugin's, so a seed and knobs mean the same music everywhere.
//!
//! Writing (a [`PhraseSource`] turns knobs and a seed into a progression; the drum grammar
//! turns knobs and a groove seed into a groove) is separate from rendering (a progression and
//! a groove become timed notes), because a Perform request re-renders the playing phrase
//! without writing a new one.

use super::source::PhraseSource;
use crate::music::drums::{self, Groove};
use crate::music::knobs::Knobs;
use crate::music::phrase::Phrase;
use crate::music::progression::{Progression, MAX_BARS};
use crate::music::render::{render_into, RenderSettings};

/// Writes the progression for `knobs` and `seed` (None: nothing to play). `playing` is what
/// plays now; the locks keep parts of it.
pub fn write_progression(
    source: &mut dyn PhraseSource,
    knobs: &Knobs,
    seed: u64,
    playing: Option<&Progression>,
) -> Result<Option<Progression>, String> {
    source.progression(knobs, seed, playing)
}

/// Writes the drum groove for `knobs` (its energy and phrase length) from `groove_seed`: the
/// phrase's seed unless "Drums only" or Lock drums moved it on.
pub fn write_groove(knobs: &Knobs, groove_seed: u64) -> Groove {
    drums::write_groove(groove_seed, knobs.energy, knobs.bars)
}

/// `progression` with the Key and Mode knobs applied (Auto keeps its own).
pub fn with_overrides(mut progression: Progression, knobs: &Knobs) -> Progression {
    if let Some(key) = knobs.key {
        progression.key = key;
    }
    if let Some(mode) = knobs.mode {
        progression.mode = mode;
    }
    progression
}

/// Renders `progression` and `groove` (None: no drums) as played with `knobs` (key and mode
/// overrides applied, humanized with `seed`, the drums with `groove_seed`) into `out`,
/// replacing its contents. Allocates only the override copy.
pub fn render_phrase(
    progression: &Progression,
    groove: Option<&Groove>,
    knobs: &Knobs,
    (seed, groove_seed): (u64, u64),
    out: &mut Phrase,
) {
    let played = with_overrides(progression.clone(), knobs);
    let settings = RenderSettings {
        drum_seed: groove_seed,
        ..RenderSettings::from_knobs(knobs, seed)
    };
    render_into(&played, groove, &settings, out);
}

/// A phrase written and rendered in one go.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// The progression written.
    pub progression: Progression,
    /// The groove written (from the same seed).
    pub groove: Groove,
    /// Both rendered.
    pub phrase: Phrase,
}

/// Writes and renders in one go (allocates the phrase), the groove from the phrase's seed:
/// what a fresh plugin's worker writes for `seed`.
pub fn compose(
    source: &mut dyn PhraseSource,
    knobs: &Knobs,
    seed: u64,
) -> Result<Option<Composed>, String> {
    let Some(progression) = write_progression(source, knobs, seed, None)? else {
        return Ok(None);
    };
    Ok(Some(compose_progression(progression, knobs, seed)))
}

/// Writes the groove for an already-written `progression` from `seed` and renders both
/// (allocates the phrase): [`compose`] after its progression is written, and what the
/// command line does with a progression it wrote or read from a file.
pub fn compose_progression(progression: Progression, knobs: &Knobs, seed: u64) -> Composed {
    let groove = write_groove(knobs, seed);
    let mut phrase = Phrase::new(MAX_BARS as u32);
    render_phrase(
        &progression,
        Some(&groove),
        knobs,
        (seed, seed),
        &mut phrase,
    );
    Composed {
        progression,
        groove,
        phrase,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::progression::Mode;

    #[test]
    fn overrides_replace_key_and_mode() {
        let progression = Progression {
            key: 0,
            mode: Mode::Ionian,
            bars: Vec::new(),
        };
        let knobs = Knobs {
            key: Some(5),
            mode: Some(Mode::Dorian),
            ..Knobs::default()
        };
        let p = with_overrides(progression, &knobs);
        assert_eq!((p.key, p.mode), (5, Mode::Dorian));
    }
}
