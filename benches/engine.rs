//! `cargo bench --bench engine`: what the engine costs, printed as time and as a share of the
//! real-time budget at 48 kHz. Not a test: figures vary with the machine and its load.
//!
//! * the sequencer's `process()` per block — idle (stopped), playing a block without events, a
//!   block with a phrase swap and 32 events — at 64 and 512 samples;
//! * the worker's render of an 8-bar phrase (progression → timed notes, into a pooled phrase).
//!
//! The plugin's `process()` adds nice-plug's wrapper and two queue polls on top of the
//! sequencer; those are constant and small next to these figures.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lofi_loom::audio::sequencer::{MidiEvent, Sequencer, SequencerOutput, SwapMode};
use lofi_loom::audio::sim::SimTransport;
use lofi_loom::music::phrase::{Note, Part, Phrase};
use lofi_loom::music::progression::{Bar, Chord, Mode, Progression, Step};
use lofi_loom::music::render::{render_into, RenderSettings};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SAMPLE_RATE: f64 = 48_000.0;

/// Counts events and keeps retired phrases for reuse (no allocation while measuring).
struct Sink {
    events: usize,
    #[allow(clippy::vec_box)] // phrases circulate as boxes, as in the plugin
    pool: Vec<Box<Phrase>>,
}

impl SequencerOutput for Sink {
    fn note(&mut self, event: MidiEvent) {
        black_box(event);
        self.events += 1;
    }
    fn retire(&mut self, phrase: Box<Phrase>) {
        self.pool.push(phrase);
    }
}

/// 16 one-bar notes on the bar line: a swap there ends 16 and starts 16 — 32 events.
fn dense_phrase(base_key: u8) -> Box<Phrase> {
    let mut p = Phrase::new(1);
    for i in 0..16 {
        p.push(Note {
            start_beats: 0.0,
            len_beats: 4.0,
            key: base_key + i,
            velocity: 90,
            channel: 0,
            part: Part::Chords,
        });
    }
    p.finish();
    Box::new(p)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The `q` quantile (0–1) of sorted durations.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Prints median, 99.9th percentile and maximum. The maximum mostly measures the operating
/// system pre-empting the benchmark on a shared machine; the 99.9th percentile is the
/// "worst block" figure that code can be held to.
fn report(label: &str, block: u32, mut times: Vec<Duration>) {
    times.sort();
    let budget_ns = block as f64 / SAMPLE_RATE * 1e9;
    let pct = |d: Duration| d.as_nanos() as f64 / budget_ns * 100.0;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (med, p999, max) = (
        quantile(&times, 0.5),
        quantile(&times, 0.999),
        quantile(&times, 1.0),
    );
    println!(
        "{label:<26} {block:>4} samples  median {:>7.3} µs ({:>6.3} %)  p99.9 {:>7.3} µs ({:>6.3} %)  max {:>9.3} µs  [{} blocks]",
        us(med),
        pct(med),
        us(p999),
        pct(p999),
        us(max),
        times.len(),
    );
}

fn bench_blocks(block: u32) {
    let mut sink = Sink {
        events: 0,
        pool: Vec::with_capacity(8),
    };

    // Idle: transport stopped.
    let mut seq = Sequencer::new();
    seq.queue(dense_phrase(40), &mut sink);
    let t = SimTransport::new(SAMPLE_RATE, 90.0);
    let idle: Vec<_> = (0..200_000)
        .map(|_| {
            let snap = t.snapshot();
            let start = Instant::now();
            seq.process(black_box(&snap), block, &mut sink);
            start.elapsed()
        })
        .collect();
    report("idle (stopped)", block, idle);

    // Playing, with a phrase whose events all fall on bar lines; time the blocks without any.
    let mut t = SimTransport::new(SAMPLE_RATE, 90.0);
    t.playing = true;
    let mut quiet = Vec::new();
    let mut swaps = Vec::new();
    seq.set_swap_mode(SwapMode::EveryBar);
    for i in 0..200_000u32 {
        // Keep a new phrase queued so every bar line swaps (two phrases take turns).
        if seq.pending().is_none() {
            if let Some(p) = sink.pool.pop() {
                seq.queue(p, &mut sink);
            } else if i == 0 {
                seq.queue(dense_phrase(60), &mut sink);
            }
        }
        let snap = t.snapshot();
        let before = sink.events;
        let start = Instant::now();
        seq.process(black_box(&snap), block, &mut sink);
        let elapsed = start.elapsed();
        let emitted = sink.events - before;
        t.advance(block);
        if emitted == 0 {
            quiet.push(elapsed);
        } else if emitted == 32 {
            swaps.push(elapsed);
        }
    }
    report("playing, no events", block, quiet);
    report("phrase swap + 32 events", block, swaps);
}

fn eight_bar_progression() -> Progression {
    let degrees = [2, 5, 1, 6, 2, 5, 3, 6];
    let melody = [
        Step::Note(7),
        Step::Hold,
        Step::Note(4),
        Step::Note(2),
        Step::Rest,
        Step::Note(0),
        Step::Note(2),
        Step::Hold,
    ];
    Progression {
        key: 5,
        mode: Mode::Ionian,
        bars: degrees
            .iter()
            .map(|&d| Bar {
                chord: Some(Chord::diatonic(Mode::Ionian, d)),
                melody,
            })
            .collect(),
    }
}

fn bench_render() {
    let progression = eight_bar_progression();
    let settings = RenderSettings {
        bars: Some(8),
        swing_pct: 20.0,
        humanize_pct: 25.0,
        ..RenderSettings::neutral()
    };
    let groove = lofi_loom::music::drums::write_groove(7, 0.5, 8);
    let mut phrase = Phrase::new(8);
    let times: Vec<_> = (0..20_000)
        .map(|i| {
            let settings = RenderSettings {
                humanize_seed: i,
                ..settings
            };
            let start = Instant::now();
            render_into(
                black_box(&progression),
                Some(&groove),
                &settings,
                &mut phrase,
            );
            start.elapsed()
        })
        .collect();
    let med = median(times);
    println!(
        "render 8-bar phrase with drums (worker)   median {:>8.3} µs ({} notes)",
        med.as_secs_f64() * 1e6,
        phrase.notes().len()
    );
}

fn main() {
    println!(
        "Lofi Loom engine benchmark (48 kHz budget: 64 samples = 1333 µs, 512 samples = 10 667 µs)"
    );
    for block in [64, 512] {
        bench_blocks(block);
    }
    bench_render();
}
