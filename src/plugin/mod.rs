//! The nice-plug wiring: lifecycle, the audio thread's `process()`, and the CLAP/VST3 identity.
//! Everything musical lives in the format-free modules; this file only connects them.
//!
//! Threads: the host's main thread calls `activate`/`deactivate` (which may allocate: the worker
//! and its queues are made here); the audio thread calls `process`/`reset` (real-time safe:
//! atomics, lock-free queues, no allocation — checked by `assert_process_allocs` in debug builds).

pub mod params;
#[cfg(debug_assertions)]
pub mod probe;

use crate::audio::control::{ControlInputs, Requester};
use crate::audio::engine::{Engine, InputBlock};
use crate::audio::input::{InputEvent, NoteInput, Source};
use crate::audio::sequencer::{MidiEvent, Sequencer, SequencerOutput, TransportSnapshot};
use crate::bridge::messages::{AudioEnds, Request, RequestKind};
use crate::bridge::recent::{PlayedEvent, Recorder, RECENT_CAPACITY};
use crate::bridge::status::Status;
use crate::bridge::views::{HostView, Views, NO_PHRASE};
use crate::editor::{EditorShared, LoomEditor};
use crate::music::phrase::Phrase;
use crate::music::progression::MAX_BARS;
use crate::worker::neural::NeuralSource;
use crate::worker::source::{next_seed, PhraseSource, SourceFactory};
use crate::worker::{publish_view, render_session, Worker};
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;
use params::LofiParams;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest activation waits for a new instance's first phrase (the first instance in a process
/// also loads the model: about 50 ms on a 2-core machine).
const FIRST_PHRASE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often activation looks for that phrase.
const ACTIVATION_POLL: Duration = Duration::from_micros(200);
/// Longest an offline render waits for a phrase due at a bar line (then it carries on as in
/// real time, with the phrase it has).
const OFFLINE_WAIT: Duration = Duration::from_secs(2);
/// How often an offline render looks for that phrase.
const OFFLINE_POLL: Duration = Duration::from_micros(100);

/// The plugin instance.
pub struct LofiLoom {
    /// Parameters and the persisted session (shared with the host and the worker).
    params: Arc<LofiParams>,
    /// Plays phrases against the transport and the built-in band (audio thread).
    engine: Engine,
    /// Stand-ins for output channels a host does not give (a mono or no output), so the
    /// band always has two to render into. Made at activation for the largest block.
    scratch: (Vec<f32>, Vec<f32>),
    /// Decides when to ask the worker for a phrase (audio thread).
    requester: Requester,
    /// The worker thread; made on first activation, joined on drop.
    worker: Option<Worker>,
    /// The audio thread's ends of the worker's queues.
    audio: Option<AudioEnds>,
    /// What the worker tells the user (model, errors, timing).
    status: Arc<Status>,
    /// What the editor sees (phrases, playhead, host transport) and its commands.
    views: Arc<Views>,
    /// Sample rate of the current activation, in Hz.
    sample_rate: f64,
    /// The restore count whose session the sequencer last got at activation.
    rendered_restore: Option<u64>,
    /// Whether the host renders offline (a bounce): then phrases due at a bar line are waited
    /// for. Set at activation, which hosts repeat when the mode changes.
    offline: bool,
    /// The Regenerate switch as last seen (a flip forgets the chords Follow captured).
    regenerate_seen: bool,
}

impl Default for LofiLoom {
    fn default() -> Self {
        LofiLoom {
            params: Arc::new(LofiParams::default()),
            engine: Engine::new(),
            scratch: (Vec::new(), Vec::new()),
            requester: Requester::default(),
            worker: None,
            audio: None,
            status: Arc::default(),
            views: Views::new(),
            sample_rate: 48_000.0,
            rendered_restore: None,
            offline: false,
            regenerate_seen: false,
        }
    }
}

/// Sends the sequencer's events to the host and its retired phrases back to the worker.
struct HostOutput<'a, C> {
    /// The host's process context (event output).
    context: &'a mut C,
    /// The queues to the worker.
    worker: &'a mut AudioEnds,
    /// Where every event sent is recorded, with its song position.
    recorder: &'a Recorder,
    /// The block's start in song quarter notes and quarter notes per sample, while the
    /// transport plays with a known position and tempo (else nothing is recorded).
    clock: Option<(f64, f64)>,
}

impl<C: ProcessContext<LofiLoom>> SequencerOutput for HostOutput<'_, C> {
    fn note(&mut self, e: MidiEvent) {
        let event = if e.on {
            NoteEvent::NoteOn {
                timing: e.timing,
                voice_id: VoiceID::Wildcard,
                channel: Channel::Number(e.channel),
                key: Key::Number(e.key),
                velocity: e.velocity as f32 / 127.0,
            }
        } else {
            NoteEvent::NoteOff {
                timing: e.timing,
                voice_id: VoiceID::Wildcard,
                channel: Channel::Number(e.channel),
                key: Key::Number(e.key),
                velocity: 0.0,
            }
        };
        // A full host event buffer drops the event; nothing better can be done mid-block.
        let _ = self.context.try_send_event(event);
    }

    fn note_from(&mut self, source: Source, e: MidiEvent) {
        self.note(e);
        if let Some((origin_beats, beats_per_sample)) = self.clock {
            self.recorder.record(&PlayedEvent {
                pos_beats: origin_beats + f64::from(e.timing) * beats_per_sample,
                on: e.on,
                channel: e.channel,
                key: e.key,
                velocity: e.velocity,
                part: e.part,
                thru: source == Source::Thru,
            });
        }
    }

    fn retire(&mut self, phrase: Box<Phrase>) {
        self.worker.retire(phrase);
    }
}

impl<C: ProcessContext<LofiLoom>> NoteInput for HostOutput<'_, C> {
    fn next_input(&mut self) -> Option<InputEvent> {
        // Bounded by the host's events; kinds the plugin does not use are skipped.
        while let Some(event) = self.context.next_event() {
            if let Some(input) = input_event(event) {
                return Some(input);
            }
        }
        None
    }
}

/// MIDI CC numbers the input table uses.
const CC_SUSTAIN: u8 = 64;
const CC_ALL_SOUND_OFF: u8 = 120;
const CC_RESET_CONTROLLERS: u8 = 121;
const CC_ALL_NOTES_OFF: u8 = 123;

/// A host event as the input table reads it (None: not a note, pedal or all-notes-off).
fn input_event(event: NoteEvent<()>) -> Option<InputEvent> {
    let velocity = |v: f32| {
        if v.is_finite() {
            (v * 127.0).round().clamp(0.0, 127.0) as u8
        } else {
            0
        }
    };
    Some(match event {
        NoteEvent::NoteOn {
            timing,
            channel: Channel::Number(channel),
            key: Key::Number(key),
            velocity: v,
            ..
        } => InputEvent::NoteOn {
            timing,
            channel,
            key,
            velocity: velocity(v),
        },
        NoteEvent::NoteOff {
            timing,
            channel,
            key,
            ..
        } => InputEvent::NoteOff {
            timing,
            channel: channel.number(),
            key: key.number(),
        },
        NoteEvent::Choke {
            timing,
            channel,
            key,
            ..
        } => InputEvent::Choke {
            timing,
            channel: channel.number(),
            key: key.number(),
        },
        NoteEvent::MidiCC {
            timing,
            channel,
            cc,
            value,
        } => match cc {
            CC_SUSTAIN => InputEvent::Sustain {
                timing,
                channel,
                down: value >= 64.0 / 127.0 - 1e-4,
            },
            CC_ALL_SOUND_OFF | CC_ALL_NOTES_OFF => InputEvent::AllNotesOff { timing, channel },
            CC_RESET_CONTROLLERS => InputEvent::ResetControllers { timing, channel },
            _ => return None,
        },
        _ => return None,
    })
}

/// Queues every phrase the worker has sent (audio thread).
fn take_phrases<C: ProcessContext<LofiLoom>>(
    sequencer: &mut Sequencer,
    out: &mut HostOutput<'_, C>,
) {
    while let Some(phrase) = out.worker.next_phrase() {
        sequencer.queue(phrase, out);
    }
}

/// Offline (a bounce or freeze): when a phrase the audio thread asked for is due at a bar
/// line in this block and has not arrived, waits for it, at most [`OFFLINE_WAIT`], so the
/// bounce holds what real-time playback would (where the worker is always in time). The
/// only wait on the audio thread, and never in real time.
fn wait_for_due_phrase<C: ProcessContext<LofiLoom>>(
    sequencer: &mut Sequencer,
    transport: &TransportSnapshot,
    block_samples: u32,
    out: &mut HostOutput<'_, C>,
) {
    if !out.worker.awaiting_answer() || !sequencer.swap_due(transport, block_samples) {
        return;
    }
    let deadline = Instant::now() + OFFLINE_WAIT;
    while out.worker.awaiting_answer() && Instant::now() < deadline {
        std::thread::sleep(OFFLINE_POLL);
        take_phrases(sequencer, out);
    }
}

/// The block's left and right channels: the host's first two, with any further ones silenced;
/// `scratch` stands in for channels the host did not give.
fn stereo<'a>(
    channels: &'a mut [&mut [f32]],
    scratch: &'a mut (Vec<f32>, Vec<f32>),
) -> (&'a mut [f32], &'a mut [f32]) {
    let (spare_l, spare_r) = (&mut scratch.0, &mut scratch.1);
    match channels {
        [] => (&mut spare_l[..0], &mut spare_r[..0]),
        [mono] => {
            let n = mono.len().min(spare_r.len());
            (&mut mono[..n], &mut spare_r[..n])
        }
        [l, r, rest @ ..] => {
            for c in rest {
                c.fill(0.0);
            }
            (&mut **l, &mut **r)
        }
    }
}

/// Where the block starts in the song and how far a sample goes, in quarter notes, while the
/// transport plays with a known position and tempo; also tells `recorder` the bar line the
/// block is in (a "Last N bars" export ends there).
fn recording_clock(transport: &TransportSnapshot, recorder: &Recorder) -> Option<(f64, f64)> {
    if !transport.playing {
        return None;
    }
    let origin = transport.pos_beats.filter(|p| p.is_finite())?;
    let tempo = transport.tempo_bpm.filter(|t| t.is_finite() && *t > 0.0)?;
    if let Some(bar_start) = transport.bar_start_pos_beats {
        recorder.set_bar_start(bar_start);
    }
    Some((origin, tempo / 60.0 / transport.sample_rate))
}

/// A seed for a new instance: different every time, so two fresh instances play different
/// music (a seed, once chosen, is saved and always gives the same music).
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let here = &nanos as *const u64 as u64;
    next_seed(nanos ^ here.rotate_left(32))
}

/// The worker's phrase source, built on the worker thread: the user's model folder if one is
/// chosen and valid, else the embedded model (loaded and optimised there, once). If no model
/// can load, the worker says why and plays loaded progressions only.
fn phrase_source() -> SourceFactory {
    Box::new(|dir| match NeuralSource::load(dir) {
        Ok(source) => Ok(Box::new(source) as Box<dyn PhraseSource>),
        Err(e) => Err(e.to_string()),
    })
}

/// Reads the host transport through nice-plug's methods, which derive beats and bars when a
/// host only reports samples or seconds.
fn snapshot(t: &Transport) -> TransportSnapshot {
    TransportSnapshot {
        playing: t.playing,
        sample_rate: t.sample_rate as f64,
        tempo_bpm: t.tempo,
        pos_beats: t.pos_beats(),
        time_sig: t.time_sig_numerator.zip(t.time_sig_denominator),
        bar_start_pos_beats: t.bar_start_pos_beats(),
        bar_number: t.bar_number(),
        loop_range_beats: t.loop_range_beats(),
    }
}

impl LofiLoom {
    /// What the parameters ask for, with what Follow heard filled in (audio thread).
    fn control_inputs(&self) -> ControlInputs {
        let phrase_loop = match (
            self.engine.sequencer().cursor_bars(),
            self.engine.sequencer().current(),
        ) {
            (Some(cursor), Some(p)) => Some((cursor / p.bars() as f64).floor() as i64),
            _ => None,
        };
        ControlInputs {
            knobs: self.engine.follow().knobs(self.params.knobs()),
            regenerate: self.params.regenerate.value(),
            regenerate_drums: self.params.regenerate_drums.value(),
            regenerate_mode: self.params.regenerate_mode.value().mode(),
            restored: self.params.session.restored(),
            phrase_loop,
        }
    }

    /// Tells the editor what plays and where, and what Follow hears (audio thread: atomics
    /// only).
    fn publish_playback(&self, transport: &TransportSnapshot) {
        let current = self.engine.sequencer().current();
        let cursor_bars = match (self.engine.sequencer().cursor_bars(), current) {
            (Some(cursor), Some(p)) if transport.playing => {
                Some(cursor.rem_euclid(p.bars() as f64))
            }
            _ => None,
        };
        let time_sig = transport.time_sig.and_then(|(n, d)| {
            let fits = (1..=255).contains(&n) && (1..=255).contains(&d);
            fits.then_some((n as u8, d as u8))
        });
        self.views.store_playback(
            current.map_or(NO_PHRASE, Phrase::id),
            self.engine
                .sequencer()
                .pending()
                .map_or(NO_PHRASE, Phrase::id),
            HostView {
                playing: transport.playing,
                tempo_bpm: transport.tempo_bpm.filter(|t| t.is_finite() && *t > 0.0),
                time_sig,
                cursor_bars,
            },
        );
        self.views.store_listening(&self.engine.follow().view());
    }

    /// Asks the worker for a new phrase when the parameters call for one (audio thread).
    fn send_requests(&mut self, block_samples: u32) {
        let inputs = self.control_inputs();
        let Some(audio) = self.audio.as_mut() else {
            return;
        };
        if let Some(mut request) = self.requester.tick(inputs, block_samples, self.sample_rate) {
            // For the worker to save with the session.
            request.captured = Some(*self.engine.follow().captured());
            if let Err(request) = audio.request(request) {
                self.requester.put_back(request);
            }
        }
    }

    /// A new instance has nothing to play: give it a fresh seed, ask the worker for a phrase
    /// and wait for it (main thread, at activation), so the first `process()` already holds
    /// it. The worker loads the model first (once per process; later instances share it). The
    /// wait is bounded by [`FIRST_PHRASE_TIMEOUT`]: a model that is slow or fails to load
    /// never hangs the host; the status says so and the phrase swaps in when it comes.
    fn write_first_phrase(&mut self) {
        let session = &self.params.session;
        if session.read(|s| s.progression.is_some()) || self.engine.sequencer().current().is_some()
        {
            return;
        }
        let Some(audio) = self.audio.as_mut() else {
            return;
        };
        session.update(|s| s.seed = fresh_seed());
        // With what Follow holds (a captured progression restored with the session).
        let knobs = self.engine.follow().knobs(self.params.knobs());
        // The fresh seed's own phrase: weighing candidates would load the batched bar graph
        // now and double the first activation (the worker loads it right after, for the
        // first Regenerate).
        let request = Request::new(RequestKind::Vary, knobs);
        // The queue is empty at activation; if not, the next knob move asks again.
        if audio.request(request).is_err() {
            return;
        }
        let deadline = Instant::now() + FIRST_PHRASE_TIMEOUT;
        while audio.awaiting_answer() && Instant::now() < deadline {
            match audio.next_phrase() {
                // The replaced phrases are dropped here, on the main thread.
                Some(phrase) => drop(self.engine.sequencer_mut().install(phrase)),
                None => std::thread::sleep(ACTIVATION_POLL),
            }
        }
        if audio.awaiting_answer() {
            self.status.set_error(Some(format!(
                "the model is still loading after {} s; the first phrase plays as soon as it is written",
                FIRST_PHRASE_TIMEOUT.as_secs()
            )));
        }
    }

    /// Renders the saved session synchronously (main thread) so a reopened project plays its
    /// phrase from the very first block.
    fn install_session(&mut self) {
        let restored = self.params.session.restored();
        if self.engine.sequencer().current().is_some() && self.rendered_restore == Some(restored) {
            return;
        }
        let mut phrase = Box::new(Phrase::new(MAX_BARS as u32));
        let session = self.params.session.get();
        self.engine.follow_mut().restore_captured(
            self.params.follow.value().mode(),
            &session.captured_chords(),
        );
        let knobs = self.params.knobs();
        if render_session(&session, &knobs, &mut phrase) {
            publish_view(&self.views, &session, &knobs, &mut phrase);
            // The replaced phrases are dropped here, on the main thread.
            drop(self.engine.sequencer_mut().install(phrase));
        }
        self.rendered_restore = Some(restored);
    }
}

impl Plugin for LofiLoom {
    const NAME: &'static str = "Lofi Loom";
    const VENDOR: &'static str = "Lofi Loom";
    const URL: &'static str = env!("CARGO_PKG_HOMEPAGE");
    const EMAIL: &'static str = "hello@lofiloom.example";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    // The plugin only outputs MIDI, but hosts (Ableton Live) refuse VST3 instruments without an
    // audio output, so it declares a silent stereo output; the second layout suits hosts that
    // want it on an audio track.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: None,
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
    ];
    // MIDI in: notes, and CCs for the sustain pedal (64) and all-notes-off (120, 123). CLAP
    // gets a note input port, VST3 an event input bus.
    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const MIDI_OUTPUT: MidiConfig = MidiConfig::Basic;
    const SAMPLE_ACCURATE_AUTOMATION: bool = false;

    type Editor = LoomEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        crate::editor::create(EditorShared {
            params: self.params.clone(),
            status: self.status.clone(),
            views: self.views.clone(),
        })
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.sample_rate = config.sample_rate as f64;
        self.offline = config.process_mode == ProcessMode::Offline;
        self.engine.prepare(config.sample_rate);
        self.views.performance().prepare(RECENT_CAPACITY);
        #[cfg(debug_assertions)]
        probe::activated(&self.views);
        let most = config.max_buffer_size as usize;
        self.scratch = (vec![0.0; most], vec![0.0; most]);
        if self.worker.is_none() {
            match Worker::spawn(
                self.params.session.clone(),
                self.status.clone(),
                self.views.clone(),
                phrase_source(),
            ) {
                Ok((worker, ends)) => {
                    self.worker = Some(worker);
                    self.audio = Some(ends);
                }
                Err(e) => {
                    nice_error!("Lofi Loom could not start its worker thread: {e}");
                    return false;
                }
            }
        }
        self.install_session();
        self.write_first_phrase();
        self.requester.reset(self.control_inputs());
        self.regenerate_seen = self.params.regenerate.value();
        self.engine.request_release();
        true
    }

    fn reset(&mut self) {
        self.engine.request_release();
    }

    fn deactivate(&mut self) {
        // No events can be sent now; the next block after reactivation releases everything
        // (the sequencer's notes and Thru's).
        self.engine.request_release();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(audio) = self.audio.as_mut() else {
            for channel in buffer.as_slice() {
                channel.fill(0.0);
            }
            return ProcessStatus::KeepAlive;
        };
        let block_samples = buffer.samples() as u32;
        let transport = snapshot(context.transport());
        let bypassed = self.params.bypass.value();
        let (left, right) = stereo(buffer.as_slice(), &mut self.scratch);
        {
            let recorder = self.views.performance();
            let clock = recording_clock(&transport, recorder);
            let mut out = HostOutput {
                context,
                worker: audio,
                recorder,
                clock,
            };
            take_phrases(self.engine.sequencer_mut(), &mut out);
            if self.offline && !bypassed {
                let sequencer = self.engine.sequencer_mut();
                wait_for_due_phrase(sequencer, &transport, block_samples, &mut out);
            }
            if bypassed {
                self.engine.bypass(left, right, &mut out);
            } else {
                let swap_mode = self.params.swap_at.value().mode();
                let sequencer = self.engine.sequencer_mut();
                sequencer.set_swap_mode(swap_mode);
                sequencer.set_chase(self.params.chase.value());
                let p = &self.params;
                let parts = [&p.chords.enabled, &p.bass.enabled, &p.melody.enabled];
                let parts = [
                    parts[0].value(),
                    parts[1].value(),
                    parts[2].value(),
                    p.drums.enabled.value(),
                ];
                let sound = p.sound.block(parts, p.drums.kit.value().kit());
                let input = InputBlock {
                    thru: p.thru.value(),
                    follow: p.follow.value().mode(),
                    phrase_bars: p.bars.value().bars(),
                };
                self.engine
                    .process_with_input(&transport, &sound, &input, left, right, &mut out);
            }
        }
        // Even when bypassed: the editor must show what the sequencer holds.
        self.publish_playback(&transport);
        if bypassed {
            return ProcessStatus::KeepAlive;
        }
        if self.params.regenerate.value() != self.regenerate_seen {
            // Regenerate frees the next phrase from the chords Follow captured.
            self.regenerate_seen = self.params.regenerate.value();
            self.engine.follow_mut().forget_chords();
        }
        self.send_requests(block_samples);
        // A MIDI generator has no input to wake it: keep the host calling us.
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for LofiLoom {
    const CLAP_ID: &'static str = "com.lofiloom.lofi-loom";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Writes lo-fi hip-hop chord progressions and melodies and plays them as MIDI");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(env!("CARGO_PKG_HOMEPAGE"));
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::NoteEffect,
        ClapFeature::Stereo,
    ];
}

impl Vst3Plugin for LofiLoom {
    const VST3_CLASS_ID: [u8; 16] = *b"LofiLoomMidiGen1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Generator];
}

nice_plug::nice_export_clap!(LofiLoom);
nice_plug::nice_export_vst3!(LofiLoom);
