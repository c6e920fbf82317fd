//! Energy and valence of a phrase, measured from its chords and melody: the Rust twin of
//! `models/train/lofi_train/descriptors.py`, which labelled the training data the decoder's
//! knobs were trained on.
//!
//! Each descriptor is a weighted sum of musical [`Features`] on natural scales (the *raw*
//! score), mapped to 0–1 by the training phrases' quantile table embedded from
//! `models/lofi_loom_descriptors.json`. The definitions and their rationale are in
//! `models/MODEL.md` ("Energy and valence"); `models/fixtures/descriptors.json` pins this file
//! to the Python implementation (tests/decoder.rs checks every case to 1e-6).
//!
//! Pure functions of plain data: used by tests and benchmarks to check that the knobs steer,
//! and usable by the GUI to show what a phrase measures. Nothing here allocates after
//! [`Descriptors::embedded`] has parsed the table once.

use crate::music::progression::{Mode, Progression, Quality, Step, BEATS_PER_BAR, STEPS_PER_CHORD};
use serde::Deserialize;
use std::sync::OnceLock;

/// The quantile table and weights the training pipeline wrote, embedded at build time.
const EMBEDDED_TABLE: &str = include_str!("../../models/lofi_loom_descriptors.json");

/// The musical features both descriptors are built from; every field is on a natural scale
/// (per beat, per bar, octaves, 0–1), before weighting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features {
    /// Melody onsets (`Note` steps) per quarter-note beat.
    pub onsets_per_beat: f64,
    /// Onsets on odd eighth-note steps (syncopation) per beat.
    pub offbeat_onsets_per_beat: f64,
    /// Bars whose chord differs from the previous bar's, per bar boundary; 0 for one bar.
    pub chord_changes_per_bar: f64,
    /// Highest minus lowest melody pitch, in octaves; 0 without notes.
    pub range_octaves: f64,
    /// Brightness of the mode, Locrian 0 … Lydian 1 (the table's per-mode values).
    pub mode_brightness: f64,
    /// Share of chorded bars with a major third (Major/Dominant7/Major7 = 1, Sus4 = ½); ½ with
    /// no chords at all.
    pub major_chord_share: f64,
    /// Mean melody pitch above the tonic, in octaves; 0 without notes.
    pub mean_height_octaves: f64,
    /// Mean signed interval between successive notes in minor thirds, clipped to −1..=1; 0
    /// with fewer than two notes.
    pub contour: f64,
}

/// Weights of the energy features in the raw energy score.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct EnergyWeights {
    /// Weight of [`Features::onsets_per_beat`].
    pub onsets_per_beat: f64,
    /// Weight of [`Features::offbeat_onsets_per_beat`].
    pub offbeat_onsets_per_beat: f64,
    /// Weight of [`Features::chord_changes_per_bar`].
    pub chord_changes_per_bar: f64,
    /// Weight of [`Features::range_octaves`].
    pub range_octaves: f64,
}

/// Weights of the valence features in the raw valence score.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct ValenceWeights {
    /// Weight of [`Features::mode_brightness`].
    pub mode_brightness: f64,
    /// Weight of [`Features::major_chord_share`].
    pub major_chord_share: f64,
    /// Weight of [`Features::mean_height_octaves`].
    pub mean_height_octaves: f64,
    /// Weight of [`Features::contour`].
    pub contour: f64,
}

/// The parsed `lofi_loom_descriptors.json`: quantile tables and weights.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Descriptors {
    /// Quantiles q_0 … q_{K−1} of the raw energy over the training phrases, sorted.
    energy: Vec<f64>,
    /// Quantiles of the raw valence, sorted.
    valence: Vec<f64>,
    /// Energy feature weights.
    energy_weights: EnergyWeights,
    /// Valence feature weights.
    valence_weights: ValenceWeights,
    /// [`Features::mode_brightness`] of each mode, indexed as [`Mode::ALL`].
    mode_brightness_by_mode_index: [f64; 7],
}

/// Why a descriptor table was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DescriptorError(pub String);

impl Descriptors {
    /// The table built into the plugin, parsed on first use. An error can only mean the build
    /// embedded a broken file; the crate's tests parse it, so a release never does.
    pub fn embedded() -> Result<&'static Descriptors, DescriptorError> {
        static PARSED: OnceLock<Result<Descriptors, DescriptorError>> = OnceLock::new();
        PARSED
            .get_or_init(|| Descriptors::from_json(EMBEDDED_TABLE))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and checks a `lofi_loom_descriptors.json`.
    pub fn from_json(text: &str) -> Result<Descriptors, DescriptorError> {
        let d: Descriptors = serde_json::from_str(text)
            .map_err(|e| DescriptorError(format!("the descriptor table is damaged: {e}")))?;
        for (name, table) in [("energy", &d.energy), ("valence", &d.valence)] {
            if table.len() < 2 {
                return Err(DescriptorError(format!(
                    "the `{name}` quantile table has {} entries, expected at least 2",
                    table.len()
                )));
            }
            if table.iter().any(|q| !q.is_finite()) || table.windows(2).any(|w| w[0] > w[1]) {
                return Err(DescriptorError(format!(
                    "the `{name}` quantile table is not a sorted list of numbers"
                )));
            }
        }
        Ok(d)
    }

    /// Energy 0–1 of a phrase.
    pub fn energy(&self, progression: &Progression) -> f64 {
        quantile_map(self.raw_energy(&self.features(progression)), &self.energy)
    }

    /// Valence 0–1 of a phrase.
    pub fn valence(&self, progression: &Progression) -> f64 {
        quantile_map(self.raw_valence(&self.features(progression)), &self.valence)
    }

    /// Energy from already computed features.
    pub fn energy_of(&self, features: &Features) -> f64 {
        quantile_map(self.raw_energy(features), &self.energy)
    }

    /// Valence from already computed features.
    pub fn valence_of(&self, features: &Features) -> f64 {
        quantile_map(self.raw_valence(features), &self.valence)
    }

    /// The raw (unmapped) energy score: the weighted sum of the energy features.
    pub fn raw_energy(&self, f: &Features) -> f64 {
        let w = &self.energy_weights;
        // Summed in the Python dict's order so the float rounding is the same.
        w.onsets_per_beat * f.onsets_per_beat
            + w.offbeat_onsets_per_beat * f.offbeat_onsets_per_beat
            + w.chord_changes_per_bar * f.chord_changes_per_bar
            + w.range_octaves * f.range_octaves
    }

    /// The raw (unmapped) valence score: the weighted sum of the valence features.
    pub fn raw_valence(&self, f: &Features) -> f64 {
        let w = &self.valence_weights;
        w.mode_brightness * f.mode_brightness
            + w.major_chord_share * f.major_chord_share
            + w.mean_height_octaves * f.mean_height_octaves
            + w.contour * f.contour
    }

    /// The raw energy quantile table.
    pub fn energy_table(&self) -> &[f64] {
        &self.energy
    }

    /// The raw valence quantile table.
    pub fn valence_table(&self) -> &[f64] {
        &self.valence
    }

    /// The features of a phrase (the mode's brightness comes from this table).
    pub fn features(&self, progression: &Progression) -> Features {
        features(
            progression,
            self.mode_brightness_by_mode_index[progression.mode.index()],
        )
    }
}

/// The features of `progression`, with `mode_brightness` supplied by the caller (it is a
/// per-mode constant of the table). Mirrors `descriptors.features` in Python.
pub fn features(progression: &Progression, mode_brightness: f64) -> Features {
    let bars = &progression.bars;
    let n_bars = bars.len().max(1);
    let beats = (n_bars as u32 * BEATS_PER_BAR) as f64;

    let mut onsets = 0usize;
    let mut offbeat = 0usize;
    let mut lowest = i32::MAX;
    let mut highest = i32::MIN;
    let mut pitch_sum = 0i64;
    let mut previous: Option<i32> = None;
    let mut interval_sum = 0i64;
    let mut intervals = 0usize;
    for (b, bar) in bars.iter().enumerate() {
        for (k, step) in bar.melody.iter().enumerate() {
            let Step::Note(p) = *step else { continue };
            let p = p as i32;
            onsets += 1;
            // Odd eighth steps of the phrase are off the beat (bars hold an even number).
            if (b * STEPS_PER_CHORD + k) % 2 == 1 {
                offbeat += 1;
            }
            lowest = lowest.min(p);
            highest = highest.max(p);
            pitch_sum += p as i64;
            if let Some(q) = previous {
                interval_sum += (p - q) as i64;
                intervals += 1;
            }
            previous = Some(p);
        }
    }

    let changes = bars.windows(2).filter(|w| w[0].chord != w[1].chord).count();
    let mut chorded = 0usize;
    let mut major = 0.0f64;
    for chord in bars.iter().filter_map(|bar| bar.chord) {
        chorded += 1;
        major += match chord.quality {
            Quality::Major | Quality::Dominant7 | Quality::Major7 => 1.0,
            Quality::Sus4 => 0.5,
            _ => 0.0,
        };
    }

    Features {
        onsets_per_beat: onsets as f64 / beats,
        offbeat_onsets_per_beat: offbeat as f64 / beats,
        chord_changes_per_bar: if n_bars > 1 {
            changes as f64 / (n_bars - 1) as f64
        } else {
            0.0
        },
        range_octaves: if onsets > 0 {
            (highest - lowest) as f64 / 12.0
        } else {
            0.0
        },
        mode_brightness,
        major_chord_share: if chorded > 0 {
            major / chorded as f64
        } else {
            0.5
        },
        mean_height_octaves: if onsets > 0 {
            pitch_sum as f64 / onsets as f64 / 12.0
        } else {
            0.0
        },
        contour: if intervals > 0 {
            (interval_sum as f64 / intervals as f64 / 3.0).clamp(-1.0, 1.0)
        } else {
            0.0
        },
    }
}

/// Maps a raw score to 0–1 by a sorted quantile table of K ≥ 2 entries: below q_0 → 0, at or
/// above q_{K−1} → 1; otherwise lo is the *last* index with q_lo ≤ x, hi = lo + 1, and the
/// result is (lo + (x − q_lo)/(q_hi − q_lo)) / (K − 1). A NaN score maps to 0.
pub fn quantile_map(x: f64, table: &[f64]) -> f64 {
    let (Some(&first), Some(&last)) = (table.first(), table.last()) else {
        return 0.0;
    };
    if x.is_nan() || x < first {
        return 0.0;
    }
    if x >= last {
        return 1.0;
    }
    // q_0 ≤ x < q_{K−1}, so 1 ≤ count < K and lo + 1 is in range with q_hi > x ≥ q_lo.
    let lo = table.partition_point(|&q| q <= x) - 1;
    let (q_lo, q_hi) = (table[lo], table[lo + 1]);
    (lo as f64 + (x - q_lo) / (q_hi - q_lo)) / (table.len() - 1) as f64
}

/// Brightness rank of each mode used by the training pipeline (Lydian 6 … Locrian 0), for
/// callers without a table; the embedded table stores the same values divided by 6.
pub fn mode_brightness_rank(mode: Mode) -> u8 {
    match mode {
        Mode::Lydian => 6,
        Mode::Ionian => 5,
        Mode::Mixolydian => 4,
        Mode::Dorian => 3,
        Mode::Aeolian => 2,
        Mode::Phrygian => 1,
        Mode::Locrian => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::progression::{Bar, Chord};

    #[test]
    fn embedded_table_parses_and_agrees_with_the_ranks() {
        let d = Descriptors::embedded().unwrap();
        assert_eq!(d.energy_table().len(), 101);
        assert_eq!(d.valence_table().len(), 101);
        for mode in Mode::ALL {
            let want = mode_brightness_rank(mode) as f64 / 6.0;
            assert!((d.mode_brightness_by_mode_index[mode.index()] - want).abs() < 1e-12);
        }
    }

    #[test]
    fn quantile_map_edges() {
        let t = [0.0, 1.0, 1.0, 3.0];
        assert_eq!(quantile_map(-0.1, &t), 0.0);
        assert_eq!(quantile_map(0.0, &t), 0.0);
        assert_eq!(quantile_map(3.0, &t), 1.0);
        assert_eq!(quantile_map(f64::NAN, &t), 0.0);
        // The last index with q ≤ 1.0 is 2: (2 + 0/2) / 3.
        assert!((quantile_map(1.0, &t) - 2.0 / 3.0).abs() < 1e-12);
        assert!((quantile_map(2.0, &t) - 2.5 / 3.0).abs() < 1e-12);
        assert!((quantile_map(0.5, &t) - 0.5 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_unsorted_tables() {
        let mut table: serde_json::Value = serde_json::from_str(EMBEDDED_TABLE).unwrap();
        table["energy"][1] = serde_json::json!(9.0);
        let text = table.to_string();
        let e = Descriptors::from_json(&text).unwrap_err();
        assert!(e.0.contains("`energy`"), "{e}");
        assert!(Descriptors::from_json("{}").is_err());
    }

    #[test]
    fn busier_and_brighter_phrases_score_higher() {
        let d = Descriptors::embedded().unwrap();
        let sparse = Progression {
            key: 0,
            mode: Mode::Aeolian,
            bars: vec![
                Bar {
                    chord: Some(Chord::diatonic(Mode::Aeolian, 1)),
                    melody: [
                        Step::Note(0),
                        Step::Hold,
                        Step::Hold,
                        Step::Hold,
                        Step::Rest,
                        Step::Rest,
                        Step::Rest,
                        Step::Rest
                    ],
                };
                4
            ],
        };
        let busy = Progression {
            key: 0,
            mode: Mode::Lydian,
            bars: (0..4)
                .map(|b| Bar {
                    chord: Some(Chord::diatonic(Mode::Lydian, 1 + b as u8)),
                    melody: [0, 2, 4, 7, 9, 11, 12, 14].map(|p| Step::Note(p + b)),
                })
                .collect(),
        };
        assert!(d.energy(&busy) > d.energy(&sparse));
        assert!(d.valence(&busy) > d.valence(&sparse));
    }
}
