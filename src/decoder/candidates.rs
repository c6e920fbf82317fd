//! Candidates: [`CANDIDATES`] phrases for one seed and one set of knobs, decoded together (one
//! call of the batched bar graph per bar), each scored by how close its measured energy and
//! valence land to the knobs.
//!
//! * Candidate `i` is the phrase [`Generator::generate`] writes alone for the seed
//!   [`candidate_seed`]`(seed, i)`, token for token (the batched graph's rows are the plain
//!   graph's arithmetic); candidate 0 is the seed's own phrase. Locks, key and mode overrides
//!   and the redraw of degenerate phrases apply to every candidate as they do alone.
//! * The score is the squared distance between (energy, valence) measured on the phrase
//!   ([`crate::music::descriptors`], the same measure as the training labels) and the knobs;
//!   the closest wins, the lowest index on a tie. Nothing here is random beyond the seeds, so
//!   the same seed and knobs always choose the same candidate.
//! * A model without the batched graph, or a phrase sampled below top-p 1, decodes the
//!   candidates one after the other instead: the same phrases, slower.

use super::generate::{GenerateParams, Generated, Generator};
use super::model::CANDIDATES;
use super::ModelError;
use crate::music::descriptors::Descriptors;
use crate::music::progression::Progression;

/// The seed of candidate `index` of the phrase seeded `seed`: the seed itself for 0, else a
/// SplitMix64 step of the seed mixed with the index (so neighbouring seeds do not share
/// candidates).
pub fn candidate_seed(seed: u64, index: usize) -> u64 {
    if index == 0 {
        return seed;
    }
    let mut z = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One candidate phrase and how it scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The seed it was written with ([`candidate_seed`]).
    pub seed: u64,
    /// Its tokens, key and mode.
    pub generated: Generated,
    /// The phrase.
    pub progression: Progression,
    /// Its measured energy, 0–1.
    pub energy: f64,
    /// Its measured valence, 0–1.
    pub valence: f64,
    /// Squared distance of (energy, valence) from the knobs.
    pub distance: f64,
}

/// The candidates of one phrase, in candidate order, and the one chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    /// Every candidate, index 0 first.
    pub list: Vec<Candidate>,
    /// Index of the closest.
    pub best: usize,
}

impl Candidates {
    /// The chosen candidate.
    pub fn chosen(&self) -> &Candidate {
        &self.list[self.best]
    }

    /// The others, closest first (ties in candidate order).
    pub fn runners_up(&self) -> Vec<&Candidate> {
        let mut rest: Vec<&Candidate> = self
            .list
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.best)
            .map(|(_, c)| c)
            .collect();
        rest.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        rest
    }
}

impl Generator {
    /// Writes the [`CANDIDATES`] candidates of `params` (see the module docs) and chooses the
    /// closest to the knobs.
    pub fn candidates(&mut self, params: &GenerateParams) -> Result<Candidates, ModelError> {
        let seeds: Vec<u64> = (0..CANDIDATES)
            .map(|i| candidate_seed(params.seed, i))
            .collect();
        let generated = if params.top_p >= 1.0 && self.has_batch_graph() {
            self.generate_batch(params, &seeds)?
        } else {
            let mut out = Vec::with_capacity(CANDIDATES);
            for &seed in &seeds {
                out.push(self.generate_tokens(&GenerateParams { seed, ..*params })?);
            }
            out
        };
        score(params, &seeds, generated)
    }
}

/// Measures and scores each candidate.
fn score(
    params: &GenerateParams,
    seeds: &[u64],
    generated: Vec<Generated>,
) -> Result<Candidates, ModelError> {
    let descriptors = Descriptors::embedded().map_err(|e| ModelError(e.0))?;
    let (energy, valence) = (
        f64::from(params.energy.clamp(0.0, 1.0)),
        f64::from(params.valence.clamp(0.0, 1.0)),
    );
    let mut list = Vec::with_capacity(generated.len());
    for (generated, &seed) in generated.into_iter().zip(seeds) {
        let progression = generated.progression()?;
        let (e, v) = (
            descriptors.energy(&progression),
            descriptors.valence(&progression),
        );
        list.push(Candidate {
            seed,
            generated,
            progression,
            energy: e,
            valence: v,
            distance: (e - energy).powi(2) + (v - valence).powi(2),
        });
    }
    let best = list
        .iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| a.distance.total_cmp(&b.distance).then(i.cmp(j)))
        .map_or(0, |(i, _)| i);
    Ok(Candidates { list, best })
}
