//! Property tests of the sequencer over random phrases and random transport scripts: the event
//! stream does not depend on block sizes, and no note is ever doubled or left hanging.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lofi_loom::audio::sequencer::{Sequencer, SwapMode};
use lofi_loom::audio::sim::{Recorder, SimTransport, TimedEvent};
use lofi_loom::music::drums;
use lofi_loom::music::phrase::{Note, Part, Phrase};
use lofi_loom::music::progression::Progression;
use lofi_loom::music::render::{render_into, RenderSettings};
use proptest::prelude::*;

/// Random notes on a loose eighth grid, or a phrase written as the plugin writes one.
fn arb_phrase() -> BoxedStrategy<Phrase> {
    prop_oneof![arb_notes(), arb_written()].boxed()
}

/// The ii–V–I fixture with the drum groove of a random seed and Energy, rendered with random
/// Swing, Humanize and Lazy: sixteenth-note drum hits with their short fixed lengths on
/// channel 10 beside the chords, bass and melody, as the worker renders them.
fn arb_written() -> impl Strategy<Value = Phrase> {
    (
        prop::sample::select(vec![1u32, 2, 4, 8]),
        any::<u64>(),
        0.0f32..=1.0,
        0.0f32..=60.0,
        0.0f32..=100.0,
        0.0f32..=100.0,
    )
        .prop_map(|(bars, seed, energy, swing_pct, humanize_pct, lazy_pct)| {
            let progression = Progression::from_json(include_str!("fixtures/ii-v-i.json"))
                .expect("valid fixture");
            let groove = drums::write_groove(seed, energy, bars);
            let settings = RenderSettings {
                bars: Some(bars),
                energy,
                swing_pct,
                humanize_pct,
                humanize_seed: seed,
                drum_seed: seed,
                lazy_pct,
                ..RenderSettings::neutral()
            };
            let mut p = Phrase::new(bars);
            render_into(&progression, Some(&groove), &settings, &mut p);
            p
        })
}

fn arb_notes() -> impl Strategy<Value = Phrase> {
    let part = prop::sample::select(vec![Part::Chords, Part::Bass, Part::Melody, Part::Drums]);
    let note = (0u32..64, 0.0f64..0.2, 1u32..24, 30u8..96, 0u8..4, part);
    (
        prop::sample::select(vec![1u32, 2, 4, 8]),
        prop::collection::vec(note, 0..48),
    )
        .prop_map(|(bars, notes)| {
            let mut p = Phrase::new(bars);
            for (step, jitter, len, key, channel, part) in notes {
                p.push(Note {
                    start_beats: (step % (bars * 8)) as f64 * 0.5 + jitter,
                    len_beats: len as f64 * 0.25,
                    key,
                    velocity: 90,
                    channel,
                    part,
                });
            }
            p.finish();
            p
        })
}

fn arb_blocks() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(prop_oneof![0u32..=16, 0u32..=1024, 0u32..=8192], 1..64)
}

/// An event at its song position, with its block-relative timing left out.
type Placed = (u64, bool, u8, u8, u8);

fn placed(events: &[TimedEvent]) -> Vec<Placed> {
    events
        .iter()
        .map(|e| {
            (
                e.sample,
                e.event.on,
                e.event.channel,
                e.event.key,
                e.event.velocity,
            )
        })
        .collect()
}

/// Runs `total` samples cycling through `blocks` (0-sample blocks included), chasing notes
/// sounding at the start if `chase`.
fn run(
    phrase: &Phrase,
    mut transport: SimTransport,
    total: u64,
    blocks: &[u32],
    chase: bool,
) -> Vec<TimedEvent> {
    let mut seq = Sequencer::new();
    seq.set_chase(chase);
    let mut rec = Recorder::default();
    seq.queue(Box::new(phrase.clone()), &mut rec);
    let mut done = 0u64;
    // A script of only empty blocks would never advance: end it with a real block.
    let blocks: Vec<u32> = blocks.iter().copied().chain([512]).collect();
    for &b in blocks.iter().cycle() {
        if done >= total {
            break;
        }
        let n = (b as u64).min(total - done) as u32;
        rec.block(&mut seq, &mut transport, n);
        done += n as u64;
    }
    rec.events
}

/// Checks a stream: sorted, never a note-on over a sounding note, never an orphan note-off.
/// Returns the notes still sounding at the end.
fn check_stream(events: &[TimedEvent]) -> usize {
    let mut on = [[false; 128]; 16];
    let mut last = 0;
    for e in events {
        assert!(e.sample >= last, "events out of order at {}", e.sample);
        last = e.sample;
        let slot = &mut on[e.event.channel as usize][e.event.key as usize];
        if e.event.on {
            assert!(!*slot, "doubled note-on {:?}", e);
        } else {
            assert!(*slot, "note-off without note-on {:?}", e);
        }
        *slot = e.event.on;
    }
    on.iter().flatten().filter(|&&s| s).count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn block_sizes_do_not_change_the_stream(
        phrase in arb_phrase(),
        blocks in arb_blocks(),
        rate in prop::sample::select(vec![44_100.0, 48_000.0, 96_000.0]),
        tempo in 40.0f64..200.0,
        sig in prop::sample::select(vec![(4, 4), (3, 4), (6, 8), (7, 8)]),
        start_beats in 0.0f64..32.0,
        chase in any::<bool>(),
    ) {
        let mut t = SimTransport::new(rate, tempo);
        t.playing = true;
        t.time_sig = sig;
        t.seek_beats(start_beats);
        let total = (t.samples_per_beat() * 9.0) as u64;
        let reference = run(&phrase, t, total, &[8192], chase);
        prop_assert_eq!(placed(&run(&phrase, t, total, &blocks, chase)), placed(&reference));
        check_stream(&reference);
    }

    #[test]
    fn single_sample_blocks_match_large_blocks(phrase in arb_phrase(), tempo in 60.0f64..180.0) {
        let mut t = SimTransport::new(44_100.0, tempo);
        t.playing = true;
        let total = (t.samples_per_beat() * 4.0) as u64;
        prop_assert_eq!(
            placed(&run(&phrase, t, total, &[1], true)),
            placed(&run(&phrase, t, total, &[4096], true))
        );
    }
}

/// One step of a random transport script.
#[derive(Debug, Clone)]
enum Action {
    Play(Vec<u32>),
    Stop,
    Start,
    Seek(f64),
    Tempo(f64),
    TimeSig((i32, i32)),
    Loop(Option<(f64, f64)>),
    Jitter(Vec<i64>),
    Queue(Phrase),
    SwapMode(bool),
    Reset,
    Chase(bool),
    /// Start again at a position that is mid-note for most phrases (a start, or a seek while
    /// playing), in beats.
    StartAt(f64),
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => arb_blocks().prop_map(Action::Play),
        1 => Just(Action::Stop),
        2 => Just(Action::Start),
        1 => (-4.0f64..64.0).prop_map(Action::Seek),
        1 => (30.0f64..300.0).prop_map(Action::Tempo),
        1 => prop::sample::select(vec![(4, 4), (3, 4), (5, 4), (6, 8)]).prop_map(Action::TimeSig),
        1 => prop::option::of((0.0f64..16.0, 0.25f64..8.0).prop_map(|(s, l)| (s, s + l))).prop_map(Action::Loop),
        1 => prop::collection::vec(-6i64..=6, 1..40).prop_map(Action::Jitter),
        2 => arb_phrase().prop_map(Action::Queue),
        1 => any::<bool>().prop_map(Action::SwapMode),
        1 => Just(Action::Reset),
        1 => any::<bool>().prop_map(Action::Chase),
        2 => (0.0f64..32.0).prop_map(|b| Action::StartAt(b.floor() + 0.3 + (b.fract() * 0.4))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_doubled_or_hung_notes_under_random_transports(
        first in arb_phrase(),
        script in prop::collection::vec(arb_action(), 1..24),
        rate in prop::sample::select(vec![44_100.0, 48_000.0, 96_000.0]),
    ) {
        let mut seq = Sequencer::new();
        // Chasing on, as the plugin's default: starts and seeks mid-note start notes too.
        seq.set_chase(true);
        let mut rec = Recorder::default();
        let mut t = SimTransport::new(rate, 90.0);
        t.playing = true;
        seq.queue(Box::new(first), &mut rec);
        let mut block_starts = Vec::new();
        for action in script {
            match action {
                Action::Play(blocks) => {
                    for n in blocks {
                        block_starts.push((rec.block_start, n));
                        rec.block(&mut seq, &mut t, n);
                    }
                }
                Action::Stop => t.playing = false,
                Action::Start => t.playing = true,
                Action::Seek(b) => t.seek_beats(b),
                Action::Tempo(bpm) => t.set_tempo(bpm),
                Action::TimeSig(sig) => t.time_sig = sig,
                Action::Loop(range) => t.loop_range_beats = range,
                Action::Jitter(offsets) => {
                    // A host whose reported position wobbles by a few samples.
                    for j in offsets {
                        let mut snap = t.snapshot();
                        let spb = t.samples_per_beat();
                        snap.pos_beats = snap.pos_beats.map(|p| p + j as f64 / spb);
                        block_starts.push((rec.block_start, 256));
                        seq.process(&snap, 256, &mut rec);
                        t.advance(256);
                        rec.block_start += 256;
                    }
                }
                Action::Queue(p) => seq.queue(Box::new(p), &mut rec),
                Action::SwapMode(every_bar) => {
                    seq.set_swap_mode(if every_bar { SwapMode::EveryBar } else { SwapMode::EndOfPhrase })
                }
                Action::Reset => seq.request_release(),
                Action::Chase(on) => seq.set_chase(on),
                Action::StartAt(b) => {
                    t.seek_beats(b);
                    t.playing = true;
                }
            }
        }
        // Every event lies inside the block that emitted it.
        for e in &rec.events {
            let (start, len) = block_starts
                .iter()
                .rev()
                .find(|(s, n)| *s <= e.sample && e.sample < s + *n as u64)
                .copied()
                .unwrap_or((0, 0));
            prop_assert!(len > 0 && e.sample - start == e.event.timing as u64, "event outside its block: {:?}", e);
        }
        // Stopping ends everything.
        t.playing = false;
        rec.block(&mut seq, &mut t, 64);
        prop_assert_eq!(check_stream(&rec.events), 0);
        prop_assert!(!seq.has_sounding_notes());
    }
}
