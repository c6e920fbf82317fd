//! The built-in band, in the built plugin through the CLAP host (`tests/common/`): the
//! hand-written two-bar session with a groove, played with Sound set to Built-in.
//!
//! What it pins:
//! * the band sounds while the transport plays, and only then: the output is not silent while
//!   playing, falls below −90 dBFS within 2 s of a stop, and is exact zeros with Sound set to
//!   MIDI only and while bypassed;
//! * the audio does not depend on the host's block sizes: blocks cycling through 1–8192
//!   samples give the very samples 512-sample blocks give;
//! * every sample is finite, the peak stays at or below −1 dBFS (the band's limiter ceiling,
//!   0.891) with every texture stage at its maximum, and the DC offset is below 1e-3;
//! * no clicks where notes end: with the texture off (so only the instruments shape the
//!   signal), no sample-to-sample step within 2 ms of a note-off is larger than the largest
//!   step anywhere else while the same notes hold, plus 10 %. A note cut off without its
//!   release jumps by the note's full amplitude in one sample and breaks that bound.

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/host.rs"]
mod host;
#[path = "common/plugin_binary.rs"]
mod plugin_binary;
#[path = "common/score.rs"]
mod score;
#[path = "common/transport.rs"]
mod transport;

use host::*;
use score::*;
use serde_json::{json, Value};
use transport::*;

/// 31 648.35… samples per beat.
const CLOCK: Clock = Clock {
    rate: 48_000,
    bpm: 91,
};
/// The limiter's ceiling, −1 dBFS.
const CEILING: f32 = 0.891_3;
/// −90 dBFS.
const SILENT: f32 = 3.162e-5;

/// The score's session with a two-bar groove, as the host would reopen it.
fn session() -> String {
    let mut session: Value = serde_json::from_str(SESSION_JSON).expect("the session is JSON");
    session["version"] = json!(3);
    session["groove"] = json!({"bars": [
        {"kick": "X.........x.....", "snare": "....X.......X...", "closed_hat": "x.x.x.x.x.x.x.x."},
        {"kick": "X.......x.x.....", "clap": "....X.......X..g", "open_hat": "..............x."}
    ]});
    session.to_string()
}

/// The test parameters with the band playing; `texture` 0–100 for every texture stage (None:
/// their defaults).
fn built_in(texture: Option<f32>) -> Vec<u8> {
    let mut params = test_params();
    params["sound"] = json!({"string": "built-in"});
    if let Some(pct) = texture {
        for id in ["tone", "wobble", "drive", "dust", "crush", "space"] {
            params[id] = json!({"f32": pct});
        }
    }
    state_bytes_with(&json_string(&session()), params)
}

/// A fresh instance with `state`, playing two phrase loops from the song start in `blocks`,
/// then stopped for 2.5 s; returns the record and the whole output, left and right.
fn play_it(state: &[u8], blocks: &[u32]) -> (Record, (Vec<f32>, Vec<f32>)) {
    let mut instance = new_instance(load_entry());
    load_state(&mut instance, state).expect("the state loads");
    let blocks = blocks.to_vec();
    let mut audio = (Vec::new(), Vec::new());
    let record = play(&mut instance, CLOCK, |d| {
        d.block_sizes = blocks;
        d.audio = Some((Vec::new(), Vec::new()));
        d.play_from(0);
        d.run_until(d.clock.samples(2 * PHRASE_HB));
        d.stop();
        d.record.marks.stop = d.now;
        d.run_for(u64::from(CLOCK.rate) * 5 / 2);
        audio = d.audio.take().expect("audio kept");
    });
    (record, audio)
}

/// The largest absolute sample of a span; infinite if any sample is NaN or infinite (so every
/// peak check is a finiteness check too).
fn peak(span: &[f32]) -> f32 {
    span.iter().fold(0.0, |m, x| {
        if x.is_finite() {
            m.max(x.abs())
        } else {
            f32::INFINITY
        }
    })
}

#[test]
fn the_band_plays_while_the_transport_plays_and_falls_silent_after_the_stop() {
    let (record, (left, right)) = play_it(&built_in(None), &BLOCK_CYCLE);
    heard(&record, "built-in");
    let stop = record.marks.stop as usize;
    assert_eq!(left.len(), right.len());
    let playing = peak(&left[..stop]).max(peak(&right[..stop]));
    assert!(
        playing > 0.05,
        "the band sounds while playing (peak {playing})"
    );
    // Every bar sounds: no silent stretch of a quarter bar while playing.
    let quarter_bar = CLOCK.samples(2) as usize;
    for (i, chunk) in left[..stop].chunks(quarter_bar).enumerate() {
        assert!(peak(chunk) > 1e-3, "silent stretch {i} while playing");
    }
    let two_seconds = stop + 2 * CLOCK.rate as usize;
    let tail = peak(&left[two_seconds..]).max(peak(&right[two_seconds..]));
    assert!(tail < SILENT, "below -90 dBFS 2 s after the stop: {tail}");
    let dc = left[..stop].iter().map(|&x| f64::from(x)).sum::<f64>() / stop as f64;
    assert!(dc.abs() < 1e-3, "DC {dc}");
    assert!(peak(&left).max(peak(&right)) <= CEILING);
}

#[test]
fn the_audio_does_not_depend_on_the_hosts_block_sizes() {
    let state = built_in(None);
    let (a, cycled) = play_it(&state, &BLOCK_CYCLE);
    let (b, even) = play_it(&state, &[512]);
    // Both play past two phrase loops; they stop where their last block ends, so compare up
    // to the earlier stop.
    let n = a.marks.stop.min(b.marks.stop) as usize;
    assert!(n >= CLOCK.samples(2 * PHRASE_HB) as usize);
    let first = cycled.0[..n]
        .iter()
        .zip(&even.0[..n])
        .chain(cycled.1[..n].iter().zip(&even.1[..n]))
        .position(|(a, b)| a.to_bits() != b.to_bits());
    assert_eq!(first, None, "blocks of 1-8192 and of 512 samples differ");
}

#[test]
fn every_texture_stage_at_its_maximum_keeps_the_peak_below_the_ceiling() {
    let (record, (left, right)) = play_it(&built_in(Some(100.0)), &BLOCK_CYCLE);
    heard(&record, "maximum texture");
    let p = peak(&left).max(peak(&right));
    assert!(p <= CEILING && p > 0.05, "peak {p} at maximum texture");
}

#[test]
fn midi_only_and_bypass_give_exact_zeros() {
    let mut instance = new_instance(load_entry());
    load_state(&mut instance, &built_in(None)).expect("the state loads");
    let sound = param_id(&mut instance, "Sound");
    let bypass = param_id(&mut instance, "Bypass");
    let record = play(&mut instance, CLOCK, move |d| {
        d.play_from(0);
        d.run_until(d.clock.samples(BAR_HB));
        d.set_param(sound, 1.0); // MIDI only
        d.record.marks.loop_seek = d.now;
        d.run_until(d.clock.samples(2 * BAR_HB));
        d.set_param(sound, 0.0); // Built-in again
        d.run_until(d.clock.samples(3 * BAR_HB));
        d.set_param(bypass, 1.0);
        d.record.marks.replay = d.now;
        d.run_until(d.clock.samples(4 * BAR_HB));
        d.stop();
    });
    let heard = heard(&record, "switches");
    let m = record.marks;
    let bar = CLOCK.samples(BAR_HB);
    for call in &record.calls {
        let end = call.start + u64::from(call.len);
        if call.start >= m.loop_seek && end <= m.loop_seek + bar {
            assert!(call.silent, "MIDI only: exact zeros at {}", call.start);
        }
        if call.start >= m.replay {
            assert!(call.silent, "bypassed: exact zeros at {}", call.start);
        }
        if call.start >= m.loop_seek + bar + 2 * CLOCK.samples(1) && end <= m.replay {
            assert!(!call.silent, "built-in again: sound at {}", call.start);
        }
    }
    // The MIDI goes on while the band is off.
    assert!(heard
        .iter()
        .any(|h| h.on && h.sample >= m.loop_seek && h.sample < m.loop_seek + bar));
}

#[test]
fn notes_end_without_clicks() {
    // The texture off, the drums off: only the keys, bass and melody shape the signal.
    let mut params = test_params();
    params["sound"] = json!({"string": "built-in"});
    params["drums_on"] = json!({"bool": false});
    for id in ["tone", "wobble", "drive", "dust", "crush", "space"] {
        params[id] = json!({"f32": 0.0});
    }
    let state = state_bytes_with(&json_string(SESSION_JSON), params);
    let (record, (left, _)) = play_it(&state, &[512]);
    let heard = heard(&record, "clicks");
    let stop = record.marks.stop as usize;
    let window = (CLOCK.rate / 500) as usize; // 2 ms
    let mut near_offs = vec![false; left.len()];
    for h in heard.iter().filter(|h| !h.on) {
        let at = h.sample as usize;
        for flag in near_offs
            .iter_mut()
            .take((at + window).min(left.len()))
            .skip(at.saturating_sub(1))
        {
            *flag = true;
        }
    }
    let step = |i: usize| (left[i] - left[i - 1]).abs();
    let (mut at_offs, mut elsewhere) = (0.0f32, 0.0f32);
    for (i, &near) in near_offs.iter().enumerate().take(stop).skip(1) {
        if near {
            at_offs = at_offs.max(step(i));
        } else {
            elsewhere = elsewhere.max(step(i));
        }
    }
    assert!(elsewhere > 0.0);
    assert!(
        at_offs <= elsewhere * 1.1,
        "a step of {at_offs} where a note ends, {elsewhere} at most elsewhere"
    );
}
