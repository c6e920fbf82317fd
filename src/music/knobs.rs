//! The settings that shape a phrase — [`Knobs`] — with the plugin's defaults and the named
//! ranges every front end uses: the plugin's parameters, the command line and the editor.
//!
//! Plain `Copy` data: the audio thread reads it from the parameters once per block and sends
//! it to the worker inside a request, without allocating. `Knobs::default()` is exactly what a
//! fresh plugin instance plays, so `lofi-loom render --seed 7 --energy 0.3` writes the phrase
//! a fresh plugin plays for seed 7 at Energy 0.3.

use super::drums::KitMap;
use super::progression::{Chord, Mode, MAX_BARS};

/// An inclusive range of a knob, with its default: declared once, used by the parameters, the
/// command line and the editor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnobRange {
    /// Smallest value.
    pub min: f32,
    /// Largest value.
    pub max: f32,
    /// The value a fresh instance starts with.
    pub default: f32,
}

impl KnobRange {
    /// Whether `x` lies inside the range (NaN never does).
    pub fn contains(&self, x: f32) -> bool {
        (self.min..=self.max).contains(&x)
    }

    /// `x` clamped into the range, with NaN read as the default.
    pub fn clamp(&self, x: f32) -> f32 {
        if x.is_nan() {
            self.default
        } else {
            x.clamp(self.min, self.max)
        }
    }
}

/// Energy: how busy and driving the music is.
pub const ENERGY: KnobRange = KnobRange {
    min: 0.0,
    max: 1.0,
    default: 0.5,
};
/// Valence: how bright and happy it sounds.
pub const VALENCE: KnobRange = KnobRange {
    min: 0.0,
    max: 1.0,
    default: 0.5,
};
/// Swing, in percent of an eighth note (0 = straight, 33 ≈ triplet shuffle).
pub const SWING_PCT: KnobRange = KnobRange {
    min: 0.0,
    max: 60.0,
    default: 20.0,
};
/// Humanize, in percent.
pub const HUMANIZE_PCT: KnobRange = KnobRange {
    min: 0.0,
    max: 100.0,
    default: 25.0,
};
/// Lazy, in percent: how far the snare lays back and the hats push ahead
/// (`drums::LAZY_LATE_BEATS`, `drums::LAZY_EARLY_BEATS` at 100 %).
pub const LAZY_PCT: KnobRange = KnobRange {
    min: 0.0,
    max: 100.0,
    default: 30.0,
};
/// Sampling temperature of the decoder (1 = as trained; the plugin always samples at 1).
pub const TEMPERATURE: KnobRange = KnobRange {
    min: 0.05,
    max: 2.0,
    default: 1.0,
};
/// Nucleus sampling mass of the decoder (1 = off; the plugin always samples at 1).
pub const TOP_P: KnobRange = KnobRange {
    min: 0.01,
    max: 1.0,
    default: 1.0,
};
/// Phrase lengths offered, in bars.
pub const PHRASE_BARS: [u32; 4] = [1, 2, 4, 8];
/// Phrase length of a fresh instance, in bars.
pub const DEFAULT_BARS: u32 = 4;
/// MIDI channels as users number them.
pub const CHANNELS: (u8, u8) = (1, 16);
/// Octave shift of a part.
pub const OCTAVES: (i8, i8) = (-2, 2);

/// One part's switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSettings {
    /// Whether the part plays at all.
    pub enabled: bool,
    /// MIDI channel 0–15 (shown to users as 1–16).
    pub channel: u8,
    /// Octave shift, [`OCTAVES`]. Keys pushed outside 0–127 are dropped, never wrapped.
    pub octave: i8,
}

impl PartSettings {
    /// An enabled part on 0-based `channel`, unshifted.
    pub const fn on(channel: u8) -> PartSettings {
        PartSettings {
            enabled: true,
            channel,
            octave: 0,
        }
    }
}

/// How the decoder samples. The plugin always uses the defaults (as evaluated); the command
/// line can change them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// Softmax temperature, [`TEMPERATURE`].
    pub temperature: f32,
    /// Nucleus mass, [`TOP_P`].
    pub top_p: f32,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: TEMPERATURE.default,
            top_p: TOP_P.default,
        }
    }
}

/// Every setting that shapes a phrase. `Default` is a fresh plugin instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knobs {
    /// Energy, [`ENERGY`].
    pub energy: f32,
    /// Valence, [`VALENCE`].
    pub valence: f32,
    /// Swing percent, [`SWING_PCT`].
    pub swing_pct: f32,
    /// Humanize percent, [`HUMANIZE_PCT`].
    pub humanize_pct: f32,
    /// Phrase length in bars, one of [`PHRASE_BARS`].
    pub bars: u32,
    /// Fixed tonic 0–11, or None for Auto (the seed's, or a loaded progression's own).
    pub key: Option<u8>,
    /// Fixed mode, or None for Auto.
    pub mode: Option<Mode>,
    /// Chords part.
    pub chords: PartSettings,
    /// Bass part.
    pub bass: PartSettings,
    /// Melody part.
    pub melody: PartSettings,
    /// Drums part (its octave is not used: [`Knobs::kit`] chooses its keys).
    pub drums: PartSettings,
    /// Lazy percent, [`LAZY_PCT`].
    pub lazy_pct: f32,
    /// Which MIDI key each drum sound uses.
    pub kit: KitMap,
    /// Keep the playing groove when writing a new phrase.
    pub lock_drums: bool,
    /// Keep the playing chords when writing a new phrase.
    pub lock_chords: bool,
    /// Keep the playing melody's rhythm when writing a new phrase.
    pub lock_rhythm: bool,
    /// How the decoder samples.
    pub sampling: Sampling,
    /// Chords heard from the musician (Follow: Chords), bar by bar as numerals in the
    /// phrase's key: a bar with one is written over that chord, as Lock chords keeps one.
    /// None everywhere unless the plugin follows chords.
    pub heard_chords: [Option<Chord>; MAX_BARS],
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            energy: ENERGY.default,
            valence: VALENCE.default,
            swing_pct: SWING_PCT.default,
            humanize_pct: HUMANIZE_PCT.default,
            bars: DEFAULT_BARS,
            key: None,
            mode: None,
            chords: PartSettings::on(0),
            bass: PartSettings::on(1),
            melody: PartSettings::on(2),
            drums: PartSettings::on(9),
            lazy_pct: LAZY_PCT.default,
            kit: KitMap::GeneralMidi,
            lock_drums: false,
            lock_chords: false,
            lock_rhythm: false,
            sampling: Sampling::default(),
            heard_chords: [None; MAX_BARS],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_and_read_nan_as_the_default() {
        assert_eq!(SWING_PCT.clamp(80.0), 60.0);
        assert_eq!(SWING_PCT.clamp(f32::NAN), 20.0);
        assert!(VALENCE.contains(1.0) && !VALENCE.contains(1.01) && !VALENCE.contains(f32::NAN));
        assert_eq!(HUMANIZE_PCT.clamp(-3.0), 0.0);
    }

    #[test]
    fn defaults_are_a_fresh_instance() {
        let k = Knobs::default();
        assert_eq!(
            (k.energy, k.valence, k.swing_pct, k.humanize_pct),
            (0.5, 0.5, 20.0, 25.0)
        );
        assert_eq!((k.bars, k.key, k.mode), (4, None, None));
        assert_eq!(
            (k.chords.channel, k.bass.channel, k.melody.channel),
            (0, 1, 2)
        );
        assert_eq!(
            (k.drums.channel, k.kit, k.lazy_pct),
            (9, KitMap::GeneralMidi, 30.0)
        );
        assert_eq!(
            k.sampling,
            Sampling {
                temperature: 1.0,
                top_p: 1.0
            }
        );
    }
}
