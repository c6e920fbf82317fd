//! One way to write a phrase. The worker, the plugin's activation, the command line and the
//! export tests all go through these two functions, with [`Knobs`] whose defaults are the
//! plugin's, so a seed and knobs mean the same music everywhere.
//!
//! Writing (a [`PhraseSource`] turns knobs and a seed into a progression) is separate from
//! rendering (a progression becomes timed notes), because a Perform request re-renders the
//! playing progression without writing a new one.

use super::source::PhraseSource;
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

/// Renders `progression` as played with `knobs` (key and mode overrides applied, humanized
/// with `seed`) into `out`, replacing its contents. Allocates only the override copy.
pub fn render_phrase(progression: &Progression, knobs: &Knobs, seed: u64, out: &mut Phrase) {
    let played = with_overrides(progression.clone(), knobs);
    render_into(&played, &RenderSettings::from_knobs(knobs, seed), out);
}

/// Writes and renders in one go (allocates the phrase): what the command line does.
pub fn compose(
    source: &mut dyn PhraseSource,
    knobs: &Knobs,
    seed: u64,
) -> Result<Option<(Progression, Phrase)>, String> {
    let Some(progression) = write_progression(source, knobs, seed, None)? else {
        return Ok(None);
    };
    let mut phrase = Phrase::new(MAX_BARS as u32);
    render_phrase(&progression, knobs, seed, &mut phrase);
    Ok(Some((progression, phrase)))
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
