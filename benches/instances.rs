//! `cargo bench --bench instances`: what each Lofi Loom instance costs when a project holds many
//! of them — the built plugin binary (release) in the CLAP test host of `tests/common/host.rs`,
//! 16 fresh instances in one process, added one at a time while the ones before keep running.
//! Not a test: figures vary with the machine and its load; the targets are printed beside them.
//!
//! Per instance: creation + `activate` (48 kHz, blocks up to 512), the time until its first
//! phrase exists (its saved session has a progression: the worker has loaded the model and
//! written one), the resident memory and threads it adds, and the CPU time of its `process()`
//! per 512-sample block with the transport stopped and playing (median and p99 over
//! [`MEASURED_BLOCKS`] blocks, on the audio thread's own CPU clock, so time the thread spends
//! descheduled — two shared cores, sixteen workers — is not counted). Also the binary's size.
//!
//! Like a host, one audio thread processes every started instance each block, paced at real
//! time, and the main thread creates, activates and polls.

// A benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/host.rs"]
mod host;
#[path = "../tests/common/plugin_binary.rs"]
mod plugin_binary;
#[path = "../tests/common/transport.rs"]
mod transport;

use clack_host::events::event_types::{TransportEvent, TransportFlags};
use clack_host::events::{EventFlags, EventHeader};
use clack_host::prelude::*;
use clack_host::utils::{BeatTime, SecondsTime};
use host::*;
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};
use transport::{Clock, FIXED_ONE};

/// Instances in the project.
const INSTANCES: usize = 16;
/// The host's block, in samples.
const BLOCK: u32 = 512;
/// Rate and tempo.
const CLOCK: Clock = Clock {
    rate: 48_000,
    bpm: 120,
};
/// Blocks measured per instance, stopped and again playing.
const MEASURED_BLOCKS: usize = 2_000;
/// How long to wait for an instance's first phrase before reporting it missing.
const FIRST_PHRASE_LIMIT: Duration = Duration::from_secs(120);
/// How often the main thread looks for a first phrase (the resolution of that figure).
const POLL: Duration = Duration::from_millis(5);

/// The name of each instance's worker thread as `/proc` shows it (`comm` keeps 15 bytes of
/// `lofi-loom-worker`).
const WORKER_THREAD: &str = "lofi-loom-worke";
/// Targets, printed beside the figures.
const FIRST_ACTIVATION_TARGET_MS: f64 = 100.0;
const LATER_ACTIVATION_TARGET_MS: f64 = 5.0;
const RSS_TARGET_MB: f64 = 30.0;

/// What the main thread asks of the audio thread.
enum ToAudio {
    /// Start processing this activated instance and process it from the next block on.
    Add(StoppedPluginAudioProcessor<TestHost>),
    /// Record the next `blocks` blocks of every instance, the transport playing from beat 0 or
    /// stopped.
    Measure { playing: bool, blocks: usize },
    /// Stop processing everything and hand the processors back.
    Finish,
}

/// What the audio thread answers.
enum FromAudio {
    /// The thread runs (and has its name, which the baseline of thread names needs).
    Ready,
    /// `start_processing` returned, after this long.
    Started(Duration),
    /// Per instance, the CPU time of each measured `process()` call.
    Measured(Vec<Vec<Duration>>),
    /// The stopped processors, in the order they were added.
    Finished(Vec<StoppedPluginAudioProcessor<TestHost>>),
}

/// This thread's CPU time so far.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; CLOCK_THREAD_CPUTIME_ID exists on Linux.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(result, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The process's resident memory, in bytes (`VmRSS` of `/proc/self/status`).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmRSS in kB");
    kb * 1024
}

/// Threads in the process.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .count()
}

/// The threads of the process by name (`/proc/self/task/*/comm`), with how many share each.
fn thread_names() -> Vec<(String, usize)> {
    let mut names = std::collections::BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let comm = task.expect("a task").path().join("comm");
        // A thread may end between the listing and the read.
        if let Ok(name) = std::fs::read_to_string(comm) {
            *names.entry(name.trim().to_string()).or_insert(0) += 1;
        }
    }
    names.into_iter().collect()
}

/// The host transport at song sample `at`, stopped or playing from sample 0, 4/4.
fn transport_event(playing: bool, at: u64) -> TransportEvent {
    let mut flags = TransportFlags::HAS_TEMPO
        | TransportFlags::HAS_BEATS_TIMELINE
        | TransportFlags::HAS_SECONDS_TIMELINE
        | TransportFlags::HAS_TIME_SIGNATURE;
    if playing {
        flags |= TransportFlags::IS_PLAYING;
    }
    let beats = CLOCK.beat_bits(0, at);
    let bar_bits = 4 * (FIXED_ONE as i64);
    let bar_number = beats.div_euclid(bar_bits);
    TransportEvent {
        header: EventHeader::new_core(0, EventFlags::empty()),
        flags,
        song_pos_beats: BeatTime::from_bits(beats),
        song_pos_seconds: SecondsTime::from_bits(CLOCK.second_bits(0, at)),
        tempo: f64::from(CLOCK.bpm),
        tempo_inc: 0.0,
        loop_start_beats: BeatTime::from_bits(0),
        loop_end_beats: BeatTime::from_bits(0),
        loop_start_seconds: SecondsTime::from_bits(0),
        loop_end_seconds: SecondsTime::from_bits(0),
        bar_start: BeatTime::from_bits(bar_number * bar_bits),
        bar_number: i32::try_from(bar_number).expect("fits"),
        time_signature_numerator: 4,
        time_signature_denominator: 4,
    }
}

/// The host's audio thread: every started instance, one block each, every
/// `BLOCK / rate` seconds.
fn audio_thread(commands: Receiver<ToAudio>, answers: Sender<FromAudio>) {
    set_role(ThreadRole::Audio);
    answers
        .send(FromAudio::Ready)
        .expect("the main thread listens");
    let period = Duration::from_secs_f64(f64::from(BLOCK) / f64::from(CLOCK.rate));
    let mut processors: Vec<StartedPluginAudioProcessor<TestHost>> = Vec::new();
    let mut left = vec![0.0f32; BLOCK as usize];
    let mut right = vec![0.0f32; BLOCK as usize];
    let mut ports = AudioPorts::with_capacity(2, 1);
    let in_events = EventBuffer::with_capacity(4);
    let mut out_events = EventBuffer::with_capacity(1024);
    let mut steady: u64 = 0;
    let mut playing = false;
    let mut song_sample: u64 = 0;
    // (blocks left to record, the records)
    let mut measuring: Option<(usize, Vec<Vec<Duration>>)> = None;
    let mut next = Instant::now();
    loop {
        match commands.try_recv() {
            Ok(ToAudio::Add(stopped)) => {
                let start = Instant::now();
                let started = stopped
                    .start_processing()
                    .unwrap_or_else(|_| panic!("an instance starts processing"));
                answers
                    .send(FromAudio::Started(start.elapsed()))
                    .expect("the main thread listens");
                processors.push(started);
            }
            Ok(ToAudio::Measure {
                playing: play,
                blocks,
            }) => {
                playing = play;
                song_sample = 0;
                let records = processors
                    .iter()
                    .map(|_| Vec::with_capacity(blocks))
                    .collect();
                measuring = Some((blocks, records));
            }
            Ok(ToAudio::Finish) | Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {}
        }
        let transport = transport_event(playing, song_sample);
        for (index, processor) in processors.iter_mut().enumerate() {
            out_events.clear();
            let mut outputs = ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only([&mut left[..], &mut right[..]]),
            }]);
            let before = thread_cpu_time();
            processor
                .process(
                    &InputAudioBuffers::empty(),
                    &mut outputs,
                    &in_events.as_input(),
                    &mut out_events.as_output(),
                    Some(steady),
                    Some(&transport),
                )
                .expect("process() succeeds");
            let spent = thread_cpu_time() - before;
            if let Some((_, records)) = measuring.as_mut() {
                records[index].push(spent);
            }
        }
        steady += u64::from(BLOCK);
        if playing {
            song_sample += u64::from(BLOCK);
        }
        if let Some((left_to_record, _)) = measuring.as_mut() {
            *left_to_record -= 1;
            if *left_to_record == 0 {
                let (_, records) = measuring.take().expect("measuring");
                answers
                    .send(FromAudio::Measured(records))
                    .expect("the main thread listens");
                playing = false;
            }
        }
        // Real time: the next block is due one period after this one was; a late thread
        // starts again from now rather than catching up in a burst.
        next += period;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    let stopped = processors
        .into_iter()
        .map(StartedPluginAudioProcessor::stop_processing)
        .collect();
    answers
        .send(FromAudio::Finished(stopped))
        .expect("the main thread listens");
}

/// Whether a saved state's session holds a progression (nice-plug's CLAP state: a `u64`
/// length, then JSON whose `fields.session` is the session's JSON text).
fn has_progression(state: &[u8]) -> bool {
    let Some(json) = state.get(8..) else {
        return false;
    };
    let Ok(state) = serde_json::from_slice::<serde_json::Value>(json) else {
        return false;
    };
    state["fields"]["session"]
        .as_str()
        .and_then(|field| serde_json::from_str::<serde_json::Value>(field).ok())
        .is_some_and(|session| !session["progression"].is_null())
}

/// Waits for the audio thread's answer, running every instance's main-thread callbacks
/// meanwhile, as a host's event loop would.
fn wait_for(
    answers: &Receiver<FromAudio>,
    instances: &mut [PluginInstance<TestHost>],
) -> FromAudio {
    loop {
        match answers.recv_timeout(Duration::from_millis(10)) {
            Ok(answer) => return answer,
            Err(RecvTimeoutError::Timeout) => instances.iter_mut().for_each(pump_main_thread),
            Err(RecvTimeoutError::Disconnected) => panic!("the audio thread stopped"),
        }
    }
}

/// The process's threads around the run.
struct Threads {
    /// Before the first instance (the host's own threads).
    before: usize,
    /// With every instance started.
    after: usize,
    /// After every instance was deactivated and dropped (and the host's audio thread ended).
    at_end: usize,
    /// [`thread_names`] before the first instance.
    names_before: Vec<(String, usize)>,
    /// [`thread_names`] with every instance started.
    names_after: Vec<(String, usize)>,
}

/// What adding one instance cost.
struct Added {
    /// `PluginInstance::new` (the factory's `create_plugin` and `init`).
    create: Duration,
    /// Creation plus `activate`.
    create_activate: Duration,
    /// `start_processing`, on the audio thread.
    start_processing: Duration,
    /// From the start of creation until the saved session holds a progression.
    first_phrase: Option<Duration>,
    /// Resident memory added, from before creation until the first phrase.
    rss_added: i64,
    /// Threads added, from before creation until the first phrase.
    threads_added: i64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mb(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// (median, p99) of `samples`, in microseconds.
fn median_p99_us(samples: &[Duration]) -> (f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |q: f64| {
        let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1e6
    };
    (at(0.5), at(0.99))
}

/// The size of a file, or of everything under a directory (a VST3 bundle is one).
fn disk_size(path: &Path) -> u64 {
    let meta = std::fs::metadata(path).expect("metadata");
    if meta.is_dir() {
        std::fs::read_dir(path)
            .expect("read_dir")
            .map(|e| disk_size(&e.expect("an entry").path()))
            .sum()
    } else {
        meta.len()
    }
}

fn main() {
    let binary = plugin_binary::plugin_binary();
    println!("Lofi Loom, {INSTANCES} instances in one process (CLAP, clack-host)");
    println!("plugin binary: {}", binary.display());
    if !binary.components().any(|c| c.as_os_str() == "release") {
        println!("warning: not a release build; figures are not representative");
    }

    let threads_at_start = threads();
    let rss_at_start = rss_bytes();
    let load_start = Instant::now();
    let entry = load_entry();
    let load_time = load_start.elapsed();
    let (to_audio, commands) = channel();
    let (answer_tx, answers) = channel();
    let audio = std::thread::Builder::new()
        .name("host audio".into())
        .spawn(move || audio_thread(commands, answer_tx))
        .expect("the audio thread starts");
    assert!(
        matches!(answers.recv(), Ok(FromAudio::Ready)),
        "the audio thread runs"
    );
    // The baseline for "threads per instance": the host's own threads, entry loaded.
    let threads_before = threads();
    let names_before = thread_names();
    println!(
        "entry loaded in {:.1} ms (+{:.1} MB RSS); threads: {threads_at_start} at start, \
         {threads_before} with the entry loaded and the host's audio thread running",
        ms(load_time),
        mb(rss_bytes() as i64 - rss_at_start as i64)
    );

    let config = PluginAudioConfiguration {
        sample_rate: f64::from(CLOCK.rate),
        min_frames_count: 1,
        max_frames_count: BLOCK,
    };
    let mut instances: Vec<PluginInstance<TestHost>> = Vec::new();
    let mut added: Vec<Added> = Vec::new();
    for _ in 0..INSTANCES {
        let rss0 = rss_bytes() as i64;
        let threads0 = threads() as i64;
        let start = Instant::now();
        let mut instance = new_instance(entry);
        let create = start.elapsed();
        let stopped = instance
            .activate(|_, _| (), config)
            .expect("the plugin activates");
        let create_activate = start.elapsed();
        to_audio
            .send(ToAudio::Add(stopped))
            .expect("the audio thread listens");
        instances.push(instance);
        let FromAudio::Started(start_processing) = wait_for(&answers, &mut instances) else {
            panic!("expected Started");
        };
        let instance = instances.last_mut().expect("just added");
        let first_phrase = loop {
            pump_main_thread(instance);
            if has_progression(&save_state(instance)) {
                break Some(start.elapsed());
            }
            if start.elapsed() > FIRST_PHRASE_LIMIT {
                break None;
            }
            std::thread::sleep(POLL);
        };
        added.push(Added {
            create,
            create_activate,
            start_processing,
            first_phrase,
            rss_added: rss_bytes() as i64 - rss0,
            threads_added: threads() as i64 - threads0,
        });
    }
    let threads_after = threads();
    let names_after = thread_names();

    let mut measure = |playing: bool| {
        to_audio
            .send(ToAudio::Measure {
                playing,
                blocks: MEASURED_BLOCKS,
            })
            .expect("the audio thread listens");
        match wait_for(&answers, &mut instances) {
            FromAudio::Measured(records) => records,
            _ => panic!("expected Measured"),
        }
    };
    let stopped_cpu = measure(false);
    let playing_cpu = measure(true);

    to_audio
        .send(ToAudio::Finish)
        .expect("the audio thread listens");
    let FromAudio::Finished(stopped) = wait_for(&answers, &mut instances) else {
        panic!("expected Finished");
    };
    audio.join().expect("the audio thread ends");
    for (instance, processor) in instances.iter_mut().zip(stopped) {
        instance.deactivate(processor);
    }
    drop(instances);
    let threads_at_end = threads();

    report(
        &added,
        &stopped_cpu,
        &playing_cpu,
        &Threads {
            before: threads_before,
            after: threads_after,
            at_end: threads_at_end,
            names_before,
            names_after,
        },
    );
    println!();
    println!("size on disk:");
    println!(
        "  {}: {:.1} MB",
        binary.display(),
        mb(disk_size(&binary) as i64)
    );
    let bundles = Path::new(env!("CARGO_MANIFEST_DIR")).join("bundles");
    for name in ["lofi_loom.clap", "lofi_loom.vst3"] {
        let path = bundles.join(name);
        if path.exists() {
            println!(
                "  {}: {:.1} MB",
                path.display(),
                mb(disk_size(&path) as i64)
            );
        } else {
            println!("  {}: not built (cargo xtask bundle)", path.display());
        }
    }
}

/// Prints the tables and the figures next to their targets.
fn report(
    added: &[Added],
    stopped_cpu: &[Vec<Duration>],
    playing_cpu: &[Vec<Duration>],
    threads: &Threads,
) {
    let budget_us = f64::from(BLOCK) / f64::from(CLOCK.rate) * 1e6;
    println!();
    println!(
        "  # | create ms | +activate ms | start µs | first phrase ms | +RSS MB | +threads | \
         stopped µs/block med  p99 | playing µs/block med  p99"
    );
    for (i, a) in added.iter().enumerate() {
        let (s_med, s_p99) = median_p99_us(&stopped_cpu[i]);
        let (p_med, p_p99) = median_p99_us(&playing_cpu[i]);
        let first = a
            .first_phrase
            .map_or("none".to_string(), |d| format!("{:.0}", ms(d)));
        println!(
            "{:>3} | {:>9.2} | {:>12.2} | {:>8.1} | {:>15} | {:>7.1} | {:>8} | {:>20.1} {:>5.1} | \
             {:>20.1} {:>5.1}",
            i + 1,
            ms(a.create),
            ms(a.create_activate),
            a.start_processing.as_secs_f64() * 1e6,
            first,
            mb(a.rss_added),
            a.threads_added,
            s_med,
            s_p99,
            p_med,
            p_p99
        );
    }
    println!("(+activate = creation and activate; first phrase counts from the start of creation)");

    let later = &added[1..];
    let later_activation: Vec<f64> = later.iter().map(|a| ms(a.create_activate)).collect();
    let later_max = later_activation.iter().copied().fold(0.0, f64::max);
    let later_mean = later_activation.iter().sum::<f64>() / later.len() as f64;
    let rss_mean = later.iter().map(|a| mb(a.rss_added)).sum::<f64>() / later.len() as f64;
    let firsts: Vec<f64> = added
        .iter()
        .filter_map(|a| a.first_phrase.map(ms))
        .collect();
    let per_instance_threads: Vec<i64> = added.iter().map(|a| a.threads_added).collect();
    let all_stopped: Vec<Duration> = stopped_cpu.iter().flatten().copied().collect();
    let all_playing: Vec<Duration> = playing_cpu.iter().flatten().copied().collect();
    let (s_med, s_p99) = median_p99_us(&all_stopped);
    let (p_med, p_p99) = median_p99_us(&all_playing);
    let verdict = |ok: bool| if ok { "meets" } else { "MISSES" };

    println!();
    println!("figure                                   | measured              | target");
    let first_ms = ms(added[0].create_activate);
    println!(
        "activation, first instance               | {:>8.2} ms           | ≤ {FIRST_ACTIVATION_TARGET_MS} ms ({})",
        first_ms,
        verdict(first_ms <= FIRST_ACTIVATION_TARGET_MS)
    );
    println!(
        "activation, instances 2–{INSTANCES} (mean / max)   | {:>6.2} / {:>6.2} ms   | ≤ {LATER_ACTIVATION_TARGET_MS} ms ({})",
        later_mean,
        later_max,
        verdict(later_max <= LATER_ACTIVATION_TARGET_MS)
    );
    println!(
        "first phrase after creation (min / max)  | {:>6.0} / {:>6.0} ms   | — ({} of {INSTANCES} wrote one)",
        firsts.iter().copied().fold(f64::INFINITY, f64::min),
        firsts.iter().copied().fold(0.0, f64::max),
        firsts.len()
    );
    println!(
        "RSS, first instance                      | {:>8.1} MB           | —",
        mb(added[0].rss_added)
    );
    println!(
        "RSS per extra instance (mean of 2–{INSTANCES})     | {:>8.1} MB           | ≤ {RSS_TARGET_MB} MB ({})",
        rss_mean,
        verdict(rss_mean <= RSS_TARGET_MB)
    );
    println!(
        "threads: {} before, {} with {INSTANCES} instances, {} after they were dropped; added \
         per instance {per_instance_threads:?}",
        threads.before, threads.after, threads.at_end
    );
    // By name, what the instances added: the per-instance workers, and anything else (nice-plug
    // starts one "bg-worker" per process for its background tasks, shared by every instance and
    // ended with the last one; it counts against the target here).
    let added_by_name: Vec<(String, i64)> = threads
        .names_after
        .iter()
        .map(|(name, n)| {
            let before = threads
                .names_before
                .iter()
                .find(|(b, _)| b == name)
                .map_or(0, |(_, n)| *n);
            (name.clone(), *n as i64 - before as i64)
        })
        .filter(|(_, n)| *n != 0)
        .collect();
    let workers = added_by_name
        .iter()
        .find(|(name, _)| name == WORKER_THREAD)
        .map_or(0, |(_, n)| *n);
    let others: Vec<&(String, i64)> = added_by_name
        .iter()
        .filter(|(name, _)| name != WORKER_THREAD)
        .collect();
    println!(
        "worker threads ({WORKER_THREAD}…)         | {workers:>3} for {INSTANCES} instances     | \
         1 per instance ({}); other threads added: {others:?}",
        verdict(workers == INSTANCES as i64 && others.is_empty())
    );
    println!(
        "process() CPU per {BLOCK}-sample block, all instances: stopped median {s_med:.1} µs, \
         p99 {s_p99:.1} µs; playing median {p_med:.1} µs, p99 {p_p99:.1} µs (budget {budget_us:.0} µs \
         per block for everything on the track)"
    );
}
