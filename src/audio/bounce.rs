//! Bouncing a phrase to audio: plays it through the [`Engine`] — the same sequencer and
//! built-in band the plugin plays — over a simulated host transport, for a number of loops,
//! then stops and keeps rendering until the tails have died away. What `lofi-loom render -o
//! loop.wav` writes. Not for the audio thread: it allocates its output.
//!
//! The transport runs at `sample_rate` from song position 0 in blocks of [`BOUNCE_BLOCK`]
//! samples; since the engine's audio does not depend on block sizes, any host playing the same
//! phrase from the song start with the same settings produces the same samples.

use super::engine::{Engine, SoundBlock};
use super::sequencer::{MidiEvent, SequencerOutput};
use super::sim::SimTransport;
use crate::music::phrase::Phrase;

/// Block size of the bounce, in samples.
pub const BOUNCE_BLOCK: u32 = 512;
/// Longest tail rendered after the last loop, in seconds (the band is usually idle sooner).
pub const MAX_TAIL_S: f64 = 4.0;

/// How to bounce.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BounceSettings {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Tempo in BPM.
    pub tempo_bpm: f64,
    /// Time signature; each phrase bar fills one bar of it, as in a host.
    pub time_sig: (u8, u8),
    /// How many times the phrase plays (at least 1).
    pub loops: u32,
    /// The band's settings (the band always plays here).
    pub sound: SoundBlock,
}

/// A bounced stereo loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounce {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Left channel.
    pub left: Vec<f32>,
    /// Right channel.
    pub right: Vec<f32>,
    /// Samples of the loops, before the tail.
    pub loop_samples: usize,
}

/// Takes the engine's events and lets the retired phrase go (it is dropped here, offline).
struct Discard;

impl SequencerOutput for Discard {
    fn note(&mut self, _event: MidiEvent) {}
    fn retire(&mut self, _phrase: Box<Phrase>) {}
}

/// Bounces `phrase`; see the module docs.
pub fn bounce(phrase: &Phrase, settings: &BounceSettings) -> Bounce {
    let rate = settings.sample_rate.max(1);
    let mut engine = Engine::new();
    engine.prepare(rate as f32);
    engine
        .sequencer_mut()
        .queue(Box::new(phrase.clone()), &mut Discard);
    let mut transport = SimTransport::new(f64::from(rate), settings.tempo_bpm);
    transport.time_sig = (
        i32::from(settings.time_sig.0),
        i32::from(settings.time_sig.1),
    );
    transport.playing = true;
    let (num, den) = settings.time_sig;
    let bar_beats = f64::from(num) * 4.0 / f64::from(den.max(1));
    let loop_samples = (f64::from(phrase.bars() * settings.loops.max(1))
        * bar_beats
        * transport.samples_per_beat())
    .ceil() as usize;
    let max_tail = (MAX_TAIL_S * f64::from(rate)) as usize;
    let mut out = Bounce {
        sample_rate: rate,
        left: Vec::with_capacity(loop_samples + max_tail),
        right: Vec::with_capacity(loop_samples + max_tail),
        loop_samples,
    };
    let mut block = (
        vec![0.0; BOUNCE_BLOCK as usize],
        vec![0.0; BOUNCE_BLOCK as usize],
    );
    let mut done = 0;
    while done < loop_samples + max_tail {
        if done >= loop_samples {
            transport.playing = false;
            if engine.is_idle() {
                break;
            }
        }
        // The last loop ends on its exact sample, so the stop comes where the host's would.
        let until = if done < loop_samples {
            loop_samples
        } else {
            loop_samples + max_tail
        };
        let n = (until - done).min(BOUNCE_BLOCK as usize);
        let (left, right) = (&mut block.0[..n], &mut block.1[..n]);
        engine.process(
            &transport.snapshot(),
            &settings.sound,
            left,
            right,
            &mut Discard,
        );
        out.left.extend_from_slice(left);
        out.right.extend_from_slice(right);
        transport.advance(n as u32);
        done += n;
    }
    out
}
