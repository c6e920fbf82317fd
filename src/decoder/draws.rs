//! The seeded random numbers of a phrase, in the order the module docs of `decoder` give:
//! one ChaCha8 stream per seed, top-bit uniforms, Box–Muller normals.

use super::TOKENS_PER_BAR;
use crate::music::progression::MAX_BARS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// ChaCha8 stream of the decoder's draws; the humanizer in `music::render` uses streams 0–2 of the
/// same seed, so a separate stream keeps the two uncorrelated.
pub const DECODER_STREAM: u64 = 0x4C4F_4649; // "LOFI"

/// The random numbers of one seed, in the order documented at the top of this file.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    /// The stream, kept to draw fresh bar uniforms for a redraw.
    rng: ChaCha8Rng,
    /// The latent z.
    pub z: Vec<f32>,
    /// Tonic 0–11, used when the key is Auto.
    pub key: u8,
    /// Uniform for the mode graph, used when the mode is Auto.
    pub mode_uniform: f32,
    /// 9 uniforms per bar; the first `bars` rows are drawn, the rest are 0.
    pub bar_uniforms: [[f32; TOKENS_PER_BAR]; MAX_BARS],
    /// Bars drawn.
    pub bars: usize,
}

/// Uniform in [0, 1) from the top 53 bits of one draw.
fn unit_f64(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Uniform in [0, 1) from the top 24 bits of one draw: exact in f32, never rounds up to 1.
fn unit_f32(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u32 << 24) as f32
}

impl Draws {
    /// The draws of `seed` for a phrase of `bars` (clamped to 1–[`MAX_BARS`]) and a latent of
    /// `z_dim` values.
    pub fn new(seed: u64, bars: usize, z_dim: usize) -> Draws {
        let mut d = Draws {
            rng: ChaCha8Rng::seed_from_u64(seed),
            z: Vec::with_capacity(z_dim),
            key: 0,
            mode_uniform: 0.0,
            bar_uniforms: [[0.0; TOKENS_PER_BAR]; MAX_BARS],
            bars: 0,
        };
        d.fill(seed, bars, z_dim);
        d
    }

    /// Redraws in place (reusing the z buffer).
    pub fn fill(&mut self, seed: u64, bars: usize, z_dim: usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(DECODER_STREAM);
        self.z.clear();
        while self.z.len() < z_dim {
            let (u1, u2) = (unit_f64(&mut rng), unit_f64(&mut rng));
            // 1 − u₁ is in (0, 1]: the logarithm is finite.
            let r = (-2.0 * (1.0 - u1).ln()).sqrt();
            let angle = std::f64::consts::TAU * u2;
            self.z.push((r * angle.cos()) as f32);
            if self.z.len() < z_dim {
                self.z.push((r * angle.sin()) as f32);
            }
        }
        self.key = ((unit_f64(&mut rng) * 12.0) as u8).min(11);
        self.mode_uniform = unit_f32(&mut rng);
        self.bars = bars.clamp(1, MAX_BARS);
        self.rng = rng;
        self.redraw_bars();
    }

    /// Draws the next 9 uniforms per bar from the stream (step 4, or step 5 for a redraw).
    pub fn redraw_bars(&mut self) {
        self.bar_uniforms = [[0.0; TOKENS_PER_BAR]; MAX_BARS];
        for row in &mut self.bar_uniforms[..self.bars] {
            for u in row.iter_mut() {
                *u = unit_f32(&mut self.rng);
            }
        }
    }
}
