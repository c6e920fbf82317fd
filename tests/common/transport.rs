//! A simulated host transport on exact time: a sample rate and an integer tempo, so every
//! position is a ratio of integers; a driver that plays blocks of cycling sizes through the
//! plugin's audio processor, wraps at host loops three ways, stops and seeks, and records
//! every `process()` call.

// Shared by several test crates; each uses only part of it.
#![allow(dead_code)]

use super::host::{pump_main_thread, set_role, TestHost, ThreadRole};
use clack_host::events::event_types::{
    MidiEvent, NoteChokeEvent, NoteExpressionEvent, NoteExpressionType, NoteOffEvent, NoteOnEvent,
    ParamValueEvent, TransportEvent, TransportFlags,
};
use clack_host::events::spaces::CoreEventSpace;
use clack_host::events::Match;
use clack_host::events::Pckn;
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use std::time::{Duration, Instant};

/// Block sizes the simulated host cycles through, in samples.
pub const BLOCK_CYCLE: [u32; 7] = [1, 37, 64, 512, 1000, 4096, 8192];
/// The largest block, in samples (the activation's `max_frames_count`).
pub const MAX_BLOCK: u32 = 8192;
/// `2^31`: CLAP's fixed-point factor for beats and seconds.
pub const FIXED_ONE: i128 = 1 << 31;

/// A sample rate and an integer tempo. With half-beat positions every conversion is a ratio of
/// integers, so it is done exactly.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Tempo in BPM.
    pub bpm: u32,
}

impl Clock {
    /// The first sample at or after `hb` half-beats from a reference sample:
    /// `ceil(hb/2 × rate × 60 / bpm)`. The sequencer's rule is `ceil(x − 1e-4)`: the same,
    /// because a fractional `x` here is at least `1 / (2 × bpm)` above an integer.
    pub fn samples(self, hb: i64) -> u64 {
        assert!(hb >= 0, "negative span {hb}");
        let num = i128::from(hb) * i128::from(self.rate) * 60;
        let den = 2 * i128::from(self.bpm);
        assert!(den < 10_000, "tempo too fine for the 1e-4 margin");
        u64::try_from((num + den - 1) / den).expect("fits")
    }

    /// How long `samples` last in real time.
    pub fn duration(self, samples: u64) -> Duration {
        Duration::from_secs_f64(samples as f64 / f64::from(self.rate))
    }

    /// The song position `samples_after` samples after half-beat `hb`, as CLAP fixed-point beats
    /// (rounded to the nearest 2^-31 beat).
    pub fn beat_bits(self, hb: i64, samples_after: u64) -> i64 {
        let den = 60 * i128::from(self.rate);
        let num = i128::from(hb) * (FIXED_ONE / 2) * den
            + i128::from(samples_after) * i128::from(self.bpm) * FIXED_ONE;
        i64::try_from((2 * num + den).div_euclid(2 * den)).expect("fits")
    }

    /// The same position as CLAP fixed-point seconds.
    pub fn second_bits(self, hb: i64, samples_after: u64) -> i64 {
        let den = i128::from(self.bpm) * i128::from(self.rate);
        let num = (i128::from(hb) * 30 * i128::from(self.rate)
            + i128::from(samples_after) * i128::from(self.bpm))
            * FIXED_ONE;
        i64::try_from((2 * num + den).div_euclid(2 * den)).expect("fits")
    }

    /// Half-beat `hb` as CLAP fixed-point seconds.
    pub fn hb_second_bits(self, hb: i64) -> i64 {
        self.second_bits(hb, 0)
    }
}

/// How the host handles reaching its loop end in the middle of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapStyle {
    /// One block, its transport at its first sample; the host jumps back inside it (REAPER).
    InsideBlock,
    /// Two `process()` calls, the second starting at the loop start.
    SplitBlocks,
    /// One `process()` call with a transport event at the wrap sample.
    TransportEvent,
}

/// Where a host loop wrap happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapKind {
    /// Exactly on a block boundary (whatever the style).
    Boundary,
    /// Inside a block, by [`WrapStyle::InsideBlock`].
    Inside,
    /// By [`WrapStyle::SplitBlocks`].
    Split,
    /// By [`WrapStyle::TransportEvent`].
    Event,
}

/// A stretch of continuous playback: the model plays the score from `start_hb` at
/// `start_sample` until `end_sample`, where everything sounding is released.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    /// Run sample where it starts.
    pub start_sample: u64,
    /// Song position there, in half-beats.
    pub start_hb: i64,
    /// Run sample where it ends (stop, seek or wrap), once known.
    pub end_sample: Option<u64>,
}

/// An input event the host sends the plugin's note port.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input {
    /// A CLAP note-on (velocity 0–1).
    NoteOn {
        /// Channel index.
        channel: u16,
        /// Key.
        key: u16,
        /// CLAP velocity.
        velocity: f64,
    },
    /// A CLAP note-off; None is CLAP's wildcard (-1).
    NoteOff {
        /// Channel index, or all.
        channel: Option<u16>,
        /// Key, or all.
        key: Option<u16>,
    },
    /// A raw MIDI 1.0 message (e.g. CC 64, 120, 123).
    Midi([u8; 3]),
    /// A CLAP note event with every field given (note id, port, a wildcard anywhere), as a
    /// host that does not track its notes may send it.
    Clap {
        /// What it is.
        kind: ClapNote,
        /// Port index (the plugin has one note input, 0).
        port: u16,
        /// Channel index, or all.
        channel: Option<u16>,
        /// Key, or all.
        key: Option<u16>,
        /// Note id, or all.
        note_id: Option<u32>,
        /// Velocity (on, off) or the expression's value.
        value: f64,
    },
}

/// The kinds of [`Input::Clap`] events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClapNote {
    /// `CLAP_EVENT_NOTE_ON`.
    On,
    /// `CLAP_EVENT_NOTE_OFF`.
    Off,
    /// `CLAP_EVENT_NOTE_CHOKE`.
    Choke,
    /// `CLAP_EVENT_NOTE_EXPRESSION`, of this type.
    Expression(NoteExpressionType),
}

/// `x` as a CLAP match: a value, or all.
fn matching<T>(x: Option<T>) -> Match<T> {
    x.map_or(Match::All, Match::Specific)
}

/// One note event as the host received it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Received {
    /// `time` in the block.
    pub time: u32,
    /// Note-on (true) or note-off.
    pub on: bool,
    /// Port index.
    pub port: i16,
    /// Channel.
    pub channel: i16,
    /// Key.
    pub key: i16,
    /// Note id.
    pub note_id: i32,
    /// CLAP velocity, 0–1.
    pub velocity: f64,
}

/// One `process()` call and what came back.
#[derive(Debug, Clone)]
pub struct Call {
    /// Run sample of the block's first frame.
    pub start: u64,
    /// Frames.
    pub len: u32,
    /// Whether the host reported a playing transport at the block start.
    pub playing: bool,
    /// The status the plugin returned.
    pub status: ProcessStatus,
    /// Whether both output channels came back all zeros.
    pub silent: bool,
    /// Whether every output sample is a finite number.
    pub finite: bool,
    /// Note events, in the order received.
    pub notes: Vec<Received>,
    /// Events other than notes (the plugin should send none).
    pub other_events: usize,
}

/// Phase boundaries of the full scenario, in run samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Marks {
    /// Seek into the host loop.
    pub loop_seek: u64,
    /// First stop.
    pub stop: u64,
    /// Playback restarts at beat 5.
    pub replay: u64,
    /// Second stop.
    pub final_stop: u64,
}

/// Everything one activation produced.
#[derive(Debug, Default)]
pub struct Record {
    /// Every `process()` call.
    pub calls: Vec<Call>,
    /// The playback segments, for the model.
    pub segments: Vec<Segment>,
    /// Loop wraps: run sample and kind.
    pub wraps: Vec<(u64, WrapKind)>,
    /// Phase boundaries.
    pub marks: Marks,
}

/// The host's audio thread: a transport and the buffers, driving a started processor.
pub struct Driver<'p> {
    /// The plugin's audio processor.
    pub processor: &'p mut StartedPluginAudioProcessor<TestHost>,
    /// Rate and tempo.
    pub clock: Clock,
    /// Run sample of the next block.
    pub now: u64,
    /// Whether the transport plays.
    pub playing: bool,
    /// Song position `anchor_hb` (half-beats) was at run sample `anchor_sample`.
    pub anchor_hb: i64,
    /// See `anchor_hb`.
    pub anchor_sample: u64,
    /// Run sample the transport stopped at (its position stays there).
    pub stopped_at: u64,
    /// Active host loop, in half-beats.
    pub loop_hb: Option<(i64, i64)>,
    /// How loop wraps inside a block are handled.
    pub style: WrapStyle,
    /// The block sizes cycled through ([`BLOCK_CYCLE`] unless a test sets others).
    pub block_sizes: Vec<u32>,
    /// Next index into `block_sizes`.
    pub cycle: usize,
    /// Output channels, [`MAX_BLOCK`] samples each.
    pub left: Vec<f32>,
    /// See `left`.
    pub right: Vec<f32>,
    /// Output port descriptors.
    pub ports: AudioPorts,
    /// Input events (a mid-block transport event).
    pub in_events: EventBuffer,
    /// Output events.
    pub out_events: EventBuffer,
    /// What happened.
    pub record: Record,
    /// Parameter changes (CLAP id, value) sent at the start of the next block.
    pub param_changes: Vec<(ClapId, f64)>,
    /// When set, blocks are paced to the wall clock from this instant, as a DAW playing in
    /// real time does; otherwise they run as fast as possible (an offline render).
    pub paced_from: Option<Instant>,
    /// When set, every block's audio is kept here (left, right).
    pub audio: Option<(Vec<f32>, Vec<f32>)>,
    /// Input events still to send, at run samples (sent in the block holding their sample,
    /// in the order queued; earlier ones go first).
    pub input: Vec<(u64, Input)>,
}

impl<'p> Driver<'p> {
    pub fn new(processor: &'p mut StartedPluginAudioProcessor<TestHost>, clock: Clock) -> Self {
        Driver {
            processor,
            clock,
            now: 0,
            playing: false,
            anchor_hb: 0,
            anchor_sample: 0,
            stopped_at: 0,
            loop_hb: None,
            style: WrapStyle::InsideBlock,
            cycle: 0,
            left: vec![0.0; MAX_BLOCK as usize],
            right: vec![0.0; MAX_BLOCK as usize],
            ports: AudioPorts::with_capacity(2, 1),
            in_events: EventBuffer::with_capacity(4),
            out_events: EventBuffer::with_capacity(1024),
            record: Record::default(),
            param_changes: Vec::new(),
            paced_from: None,
            audio: None,
            block_sizes: BLOCK_CYCLE.to_vec(),
            input: Vec::new(),
        }
    }

    /// Queues an input event at run sample `at`.
    pub fn send(&mut self, at: u64, event: Input) {
        self.input.push((at, event));
        self.input.sort_by_key(|(at, _)| *at);
    }

    /// Queues a note-on at run sample `at` (channel index, key, MIDI velocity 1–127).
    pub fn note_on(&mut self, at: u64, channel: u16, key: u16, velocity: u8) {
        let velocity = f64::from(velocity) / 127.0;
        self.send(
            at,
            Input::NoteOn {
                channel,
                key,
                velocity,
            },
        );
    }

    /// Queues a note-off at run sample `at`.
    pub fn note_off(&mut self, at: u64, channel: u16, key: u16) {
        let (channel, key) = (Some(channel), Some(key));
        self.send(at, Input::NoteOff { channel, key });
    }

    /// Puts the input events due in the block `[now, now + len)` into `in_events`, those
    /// before block time `before` only (None: all).
    fn push_input(&mut self, len: u32, before: Option<u32>) {
        let end = self.now + u64::from(len);
        let limit = before.map_or(end, |b| self.now + u64::from(b));
        let due = self.input.iter().take_while(|(at, _)| *at < limit).count();
        for (at, event) in self.input.drain(..due) {
            let time = u32::try_from(at.saturating_sub(self.now)).expect("inside the block");
            match event {
                Input::NoteOn {
                    channel,
                    key,
                    velocity,
                } => {
                    let pckn = Pckn::new(0u16, channel, key, Match::All);
                    self.in_events.push(&NoteOnEvent::new(time, pckn, velocity));
                }
                Input::NoteOff { channel, key } => {
                    let pckn = Pckn::new(0u16, matching(channel), matching(key), Match::All);
                    self.in_events.push(&NoteOffEvent::new(time, pckn, 0.0));
                }
                Input::Midi(data) => self.in_events.push(&MidiEvent::new(time, 0, data)),
                Input::Clap {
                    kind,
                    port,
                    channel,
                    key,
                    note_id,
                    value,
                } => {
                    let pckn = Pckn::new(port, matching(channel), matching(key), matching(note_id));
                    match kind {
                        ClapNote::On => self.in_events.push(&NoteOnEvent::new(time, pckn, value)),
                        ClapNote::Off => self.in_events.push(&NoteOffEvent::new(time, pckn, value)),
                        ClapNote::Choke => self.in_events.push(&NoteChokeEvent::new(time, pckn)),
                        ClapNote::Expression(ty) => self
                            .in_events
                            .push(&NoteExpressionEvent::new(time, pckn, ty, value)),
                    }
                }
            }
        }
    }

    /// Paces the following blocks to the wall clock (real-time playback).
    pub fn pace(&mut self) {
        self.paced_from = Some(Instant::now() - self.clock.duration(self.now));
    }

    /// Sets a parameter (its CLAP value) at the start of the next block, as host automation.
    pub fn set_param(&mut self, id: ClapId, value: f64) {
        self.param_changes.push((id, value));
    }

    /// Ends the current segment, if playing, at the current sample.
    pub fn end_segment(&mut self) {
        if self.playing {
            let now = self.now;
            let segment = self.record.segments.last_mut().expect("a segment plays");
            segment.end_sample = Some(now);
        }
    }

    /// Starts (or seeks) playback at half-beat `hb` from the next block.
    pub fn play_from(&mut self, hb: i64) {
        self.end_segment();
        self.playing = true;
        self.anchor_hb = hb;
        self.anchor_sample = self.now;
        self.record.segments.push(Segment {
            start_sample: self.now,
            start_hb: hb,
            end_sample: None,
        });
    }

    /// Stops the transport from the next block; its position stays where it stopped.
    pub fn stop(&mut self) {
        self.end_segment();
        self.playing = false;
        self.stopped_at = self.now;
    }

    /// Sets or clears the host loop (half-beats).
    pub fn set_loop(&mut self, loop_hb: Option<(i64, i64)>) {
        self.loop_hb = loop_hb;
    }

    /// The run sample where the playhead reaches the loop end, if it is heading there.
    pub fn wrap_sample(&self) -> Option<u64> {
        let (_, end_hb) = self.loop_hb?;
        if !self.playing || self.anchor_hb >= end_hb {
            return None;
        }
        Some(self.anchor_sample + self.clock.samples(end_hb - self.anchor_hb))
    }

    /// Jumps from the loop end back to the loop start at run sample `at`.
    pub fn wrap(&mut self, at: u64, kind: WrapKind) {
        let (start_hb, _) = self.loop_hb.expect("a loop is set");
        let segment = self.record.segments.last_mut().expect("a segment plays");
        segment.end_sample = Some(at);
        self.record.segments.push(Segment {
            start_sample: at,
            start_hb,
            end_sample: None,
        });
        self.anchor_hb = start_hb;
        self.anchor_sample = at;
        self.record.wraps.push((at, kind));
    }

    /// The transport as of run sample `at`, stamped with block time `time`.
    pub fn transport(&self, at: u64, time: u32) -> TransportEvent {
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE
            | TransportFlags::HAS_TIME_SIGNATURE;
        if self.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        let position_at = if self.playing { at } else { self.stopped_at };
        let after = position_at - self.anchor_sample;
        let beats = self.clock.beat_bits(self.anchor_hb, after);
        let seconds = self.clock.second_bits(self.anchor_hb, after);
        let bar_bits = 4 * (FIXED_ONE as i64);
        let bar_number = beats.div_euclid(bar_bits);
        let (loop_start, loop_end) = self.loop_hb.unwrap_or((0, 0));
        if self.loop_hb.is_some() {
            flags |= TransportFlags::IS_LOOP_ACTIVE;
        }
        TransportEvent {
            header: EventHeader::new_core(time, EventFlags::empty()),
            flags,
            song_pos_beats: BeatTime::from_bits(beats),
            song_pos_seconds: SecondsTime::from_bits(seconds),
            tempo: f64::from(self.clock.bpm),
            tempo_inc: 0.0,
            loop_start_beats: BeatTime::from_bits(loop_start * (FIXED_ONE as i64 / 2)),
            loop_end_beats: BeatTime::from_bits(loop_end * (FIXED_ONE as i64 / 2)),
            loop_start_seconds: SecondsTime::from_bits(self.clock.hb_second_bits(loop_start)),
            loop_end_seconds: SecondsTime::from_bits(self.clock.hb_second_bits(loop_end)),
            bar_start: BeatTime::from_bits(bar_number * bar_bits),
            bar_number: i32::try_from(bar_number).expect("fits"),
            time_signature_numerator: 4,
            time_signature_denominator: 4,
        }
    }

    /// One host block of `len` samples, wrapping at the loop end the way `style` says.
    pub fn block(&mut self, len: u32) {
        if self.wrap_sample() == Some(self.now) {
            self.wrap(self.now, WrapKind::Boundary);
        }
        let end = self.now + u64::from(len);
        match self.wrap_sample().filter(|&w| w > self.now && w < end) {
            None => self.call(len, None),
            Some(w) => {
                let before = u32::try_from(w - self.now).expect("inside a block");
                match self.style {
                    WrapStyle::InsideBlock => {
                        self.call(len, None);
                        self.wrap(w, WrapKind::Inside);
                    }
                    WrapStyle::SplitBlocks => {
                        self.call(before, None);
                        self.wrap(w, WrapKind::Split);
                        self.call(len - before, None);
                    }
                    WrapStyle::TransportEvent => {
                        // The block's own transport is taken before the wrap moves the anchor.
                        let at_block_start = self.transport(self.now, 0);
                        self.wrap(w, WrapKind::Event);
                        let at_wrap = self.transport(w, before);
                        self.call_with(len, at_block_start, Some(at_wrap));
                    }
                }
            }
        }
    }

    /// One `process()` call of `len` samples with the transport at the current sample.
    pub fn call(&mut self, len: u32, mid_block: Option<TransportEvent>) {
        let transport = self.transport(self.now, 0);
        self.call_with(len, transport, mid_block);
    }

    /// One `process()` call of `len` samples with the given transport and optional mid-block
    /// transport event.
    pub fn call_with(
        &mut self,
        len: u32,
        transport: TransportEvent,
        mid_block: Option<TransportEvent>,
    ) {
        let n = len as usize;
        // Non-zero garbage, so the check below sees the plugin write silence.
        self.left[..n].fill(0.25);
        self.right[..n].fill(0.25);
        self.in_events.clear();
        for (id, value) in self.param_changes.drain(..) {
            self.in_events
                .push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
        }
        let mid_time = mid_block.as_ref().map(|e| e.header.time());
        self.push_input(len, mid_time);
        if let Some(event) = &mid_block {
            self.in_events.push(event);
        }
        self.push_input(len, None);
        self.out_events.clear();
        let status = {
            let mut outputs = self.ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only([
                    &mut self.left[..n],
                    &mut self.right[..n],
                ]),
            }]);
            self.processor
                .process(
                    &InputAudioBuffers::empty(),
                    &mut outputs,
                    &self.in_events.as_input(),
                    &mut self.out_events.as_output(),
                    Some(self.now),
                    Some(&transport),
                )
                .expect("process() succeeds")
        };
        let silent = self.left[..n]
            .iter()
            .chain(&self.right[..n])
            .all(|&s| s == 0.0);
        let finite = self.left[..n]
            .iter()
            .chain(&self.right[..n])
            .all(|s| s.is_finite());
        if let Some((left, right)) = self.audio.as_mut() {
            left.extend_from_slice(&self.left[..n]);
            right.extend_from_slice(&self.right[..n]);
        }
        let mut notes = Vec::new();
        let mut other_events = 0;
        for event in self.out_events.iter() {
            let (raw, on) = match event.as_core_event() {
                Some(CoreEventSpace::NoteOn(e)) => (*e.as_raw(), true),
                Some(CoreEventSpace::NoteOff(e)) => (*e.as_raw(), false),
                _ => {
                    other_events += 1;
                    continue;
                }
            };
            notes.push(Received {
                time: raw.header.time,
                on,
                port: raw.port_index,
                channel: raw.channel,
                key: raw.key,
                note_id: raw.note_id,
                velocity: raw.velocity,
            });
        }
        self.record.calls.push(Call {
            start: self.now,
            len,
            playing: transport.flags.contains(TransportFlags::IS_PLAYING),
            status,
            silent,
            finite,
            notes,
            other_events,
        });
        self.now += u64::from(len);
        if let Some(start) = self.paced_from {
            let due = start + self.clock.duration(self.now);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }

    /// The next block size of the cycle.
    pub fn next_len(&mut self) -> u32 {
        let len = self.block_sizes[self.cycle % self.block_sizes.len().max(1)];
        self.cycle += 1;
        len
    }

    /// Plays cycled blocks until the run reaches sample `target`.
    pub fn run_until(&mut self, target: u64) {
        while self.now < target {
            let len = self.next_len();
            self.block(len);
        }
    }

    /// Plays cycled blocks for at least `samples` more samples.
    pub fn run_for(&mut self, samples: u64) {
        self.run_until(self.now + samples);
    }

    /// Plays cycled blocks until `count` more wraps of `kind` have happened.
    pub fn run_wraps(&mut self, kind: WrapKind, count: usize) {
        let seen = |d: &Self| d.record.wraps.iter().filter(|w| w.1 == kind).count();
        let target = seen(self) + count;
        while seen(self) < target {
            let len = self.next_len();
            self.block(len);
        }
    }
}

/// Activates the plugin at `clock.rate`, runs `script` on a separate audio thread, then stops
/// processing and deactivates.
pub fn play(
    instance: &mut PluginInstance<TestHost>,
    clock: Clock,
    script: impl FnOnce(&mut Driver) + Send,
) -> Record {
    play_after(instance, clock, |_| {}, script)
}

/// [`play`], running `activated` on the main thread between activation and processing (to
/// save the state an instance has right after activation, say).
pub fn play_after(
    instance: &mut PluginInstance<TestHost>,
    clock: Clock,
    activated: impl FnOnce(&mut PluginInstance<TestHost>),
    script: impl FnOnce(&mut Driver) + Send,
) -> Record {
    let config = PluginAudioConfiguration {
        sample_rate: f64::from(clock.rate),
        min_frames_count: 1,
        max_frames_count: MAX_BLOCK,
    };
    let stopped = instance
        .activate(|_, _| (), config)
        .expect("the plugin activates");
    activated(instance);
    let (stopped, record) = std::thread::scope(|s| {
        s.spawn(move || {
            set_role(ThreadRole::Audio);
            let mut started = stopped
                .start_processing()
                .expect("the plugin starts processing");
            let record = {
                let mut driver = Driver::new(&mut started, clock);
                script(&mut driver);
                driver.record
            };
            (started.stop_processing(), record)
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    instance.deactivate(stopped);
    pump_main_thread(instance);
    record
}
