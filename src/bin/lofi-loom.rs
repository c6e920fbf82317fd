//! `lofi-loom`, the command line: renders a phrase to a WAV file (the built-in band playing it)
//! or a Standard MIDI File, holding exactly what the plugin would play.
//!
//! Owns argument parsing, error reporting and exit codes; the music is the library's, written
//! through the plugin's own path ([`compose::write_progression`] and
//! [`compose::compose_progression`] with [`Knobs`] whose defaults are a fresh plugin's; then
//! [`bounce::bounce`] plays it through the plugin's engine and band, or [`export::midi_file`]
//! through the real sequencer). So `lofi-loom render --seed 7 --energy 0.3` writes exactly what
//! a fresh plugin plays for seed 7 at Energy 0.3. Each subcommand is a [`Command`] variant with
//! its own options; option groups shared between subcommands
//! ([`OutputOptions`], [`PerformanceOptions`]) parse themselves. Ranges come from
//! [`lofi_loom::music::knobs`], declared once for the plugin, the editor and here.
//!
//! The parser is lexopt rather than clap: the contract the tests pin (one-line errors prefixed
//! `lofi-loom: error:` naming the option, exit codes 2/1, a pointer to the right help) would
//! need clap's errors rewritten, so clap would not make this file much shorter.
//!
//! Exit codes: 0 success, 2 a usage error (bad option or value, malformed progression file),
//! 1 a failed read or write. Errors are one line on stderr naming the option, field or path.

use lofi_loom::audio::band::{SoundSettings, PRESETS};
use lofi_loom::audio::bounce::{self, Bounce, BounceSettings};
use lofi_loom::audio::engine::SoundBlock;
use lofi_loom::decoder;
use lofi_loom::midi::export::{self, ExportSettings};
use lofi_loom::music::drums::{Groove, KitMap};
use lofi_loom::music::knobs::{self, KnobRange, Knobs};
use lofi_loom::music::phrase::{Part, Phrase};
use lofi_loom::music::progression::{Mode, Progression, MAX_BARS};
use lofi_loom::worker::compose;
use lofi_loom::worker::neural::NeuralSource;
use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

/// The program's name, as messages show it.
const BIN: &str = "lofi-loom";
/// Sample rate of WAV files, in Hz.
const WAV_RATE_HZ: u32 = 48_000;
/// Ticks per quarter note offered: the two resolutions DAWs commonly use.
const PPQ_CHOICES: [u16; 2] = [480, 960];

/// Top-level help.
const MAIN_HELP: &str = "\
lofi-loom: lo-fi phrases (chords, bass, melody, drums) as MIDI files, note for note what the
Lofi Loom plugin plays, or as WAV files played by its built-in band.

Usage:
  lofi-loom render [--energy X] [--valence X] [--seed N] [--bars N] -o <OUT.wav|OUT.mid> [OPTIONS]
  lofi-loom render --progression <FILE> -o <OUT.wav|OUT.mid> [OPTIONS]
  lofi-loom help [COMMAND]

Commands:
  render   Write a phrase with the built-in model (or render a progression file) to a WAV or
           MIDI file
  help     Print this help, or a command's help

Options:
  -h, --help      Print help
  -V, --version   Print version

Run `lofi-loom render --help` for the render options.
";

/// Help of `render`.
const RENDER_HELP: &str = "\
Write a chord progression and melody with Lofi Loom's built-in model, or read one from a
file, add drums written from the seed, and render it: to a WAV file played by the plugin's
built-in band (48 kHz, 24-bit stereo: --loops times and the tail), or to a Standard MIDI File
(format 1: a tempo track, then one track per part: Chords, Bass, Melody, Drums), note for note
what the Lofi Loom plugin plays.

Usage:
  lofi-loom render [--energy X] [--valence X] [--seed N] [--bars N] -o <OUT.wav|OUT.mid> [OPTIONS]
  lofi-loom render --progression <FILE> -o <OUT.wav|OUT.mid> [OPTIONS]

Input and output:
  -p, --progression <FILE>  Read the progression instead of writing one: the LOFI sample format
                            ({\"key\": 1-12, \"mode\": 1-7, \"bpm\", \"chords\", \"melodies\"})
                            or Lofi Loom's own JSON
  -o, --output <FILE>       The file to write (overwritten if it exists): a .wav file is
                            audio, anything else a MIDI file
      --preset <NAME>       The built-in band's sound in a WAV file: Dusty tape, Clean keys,
                            Late night or Broken cassette [default: the plugin's default sound]

The model (without --progression):
      --valence <X>         0-1: how bright and happy [default: 0.5]
      --key <KEY>           Tonic: C, C#, Db, ... B or 0-11 [default: chosen by the seed]
      --mode <MODE>         ionian, dorian, phrygian, lydian, mixolydian, aeolian, locrian,
                            major, minor or 1-7 [default: the model's choice]
      --temperature <T>     0.05-2: lower is safer, higher wilder [default: 1]
      --top-p <P>           0.01-1: sample only from the likeliest tokens holding this share
                            of the probability (1 = off) [default: 1]
      --model <DIR>         Use the model in this folder (lofi_loom_bar.onnx,
                            lofi_loom_mode.onnx, lofi_loom_model.json) instead of the built-in one
      --json                Also print the progression's tokens, and the drum groove as
                            \"drums\", as JSON to stdout
      --energy and --seed below steer it too; --bars is the length it writes [default: 4]
  Every default is what a fresh Lofi Loom plugin plays, so the same seed and knobs give the
  plugin's phrase.

Timing:
      --bpm <BPM>           Tempo, 20-999 [default: the file's \"bpm\", else 80]
      --time-sig <N/D>      Time signature; each phrase bar fills one bar of it, as in a host
                            (N 1-64, D 1, 2, 4, 8, 16, 32 or 64) [default: 4/4]
      --bars <N>            Phrase length: 1, 2, 4 or 8 bars; the progression repeats or is cut
                            [default: the progression's length]
      --loops <N>           How many times the phrase is written, 1-64 [default: 1]
      --ppq <N>             Ticks per quarter note: 480 or 960 [default: 960]

Feel:
      --swing <PCT>         Delay of off-beat eighths, 0-60 % of an eighth [default: 20]
      --humanize <PCT>      Timing and velocity jitter and chord strum, 0-100 [default: 25]
      --seed <N>            The seed: the same seed gives the same file [default: 0]
      --energy <X>          0-1: how busy the model and the drums write, and velocities
                            (melody 64-112, chords 56-104, bass 60-108) [default: 0.5]
      --lazy <PCT>          0-100: the snare lays back and the hats push ahead (at 100: 1/24
                            and 1/96 beat) [default: 30]

Parts:
      --channels <C,B,M[,D]>
                            MIDI channels 1-16 of chords, bass, melody and drums
                            [default: 1,2,3,10]
      --kit <MAP>           Drum keys: gm (General MIDI: kick 36, snare 38, closed hat 42, ...)
                            or chromatic (36, 37, 38, ... from C1) [default: gm]
      --no-chords           Leave the chords out
      --no-bass             Leave the bass out
      --no-melody           Leave the melody out
      --no-drums            Leave the drums out

  -h, --help                Print this help

Examples:
  lofi-loom render --energy 0.3 --valence 0.7 --bars 8 --seed 7 --bpm 82 -o loop.wav
  lofi-loom render --energy 0.3 --valence 0.7 --bars 8 --seed 7 --bpm 82 -o phrase.mid
  lofi-loom render --progression song.json --bpm 75 --swing 30 -o song.mid
";

fn main() -> ExitCode {
    match parse_command(lexopt::Parser::from_env()).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tell(&format!("error: {e}"));
            if let CliError::Usage { help, .. } = &e {
                tell(&format!("Run `{}` for usage.", help.command_line()));
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Carries out a parsed command.
fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Help(topic) => print_out(topic.text()),
        Command::Version => print_out(&format!("{BIN} {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Render(args) => render_command(&args),
    }
}

/// Writes to stdout. Unlike `print!`, a closed pipe (`lofi-loom --help | head -1`) is an
/// error to report, not a panic.
fn print_out(text: &str) -> Result<(), CliError> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Io(format!("cannot write to stdout: {e}")))
}

/// A line on stderr, prefixed with the program's name. Unlike `eprintln!`, never panics: if
/// stderr itself is gone there is nobody left to tell.
fn tell(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{BIN}: {line}");
}

/// `render`: load or write → render → export → write, then a one-line summary on stderr.
fn render_command(args: &RenderArgs) -> Result<(), CliError> {
    let mut knobs = args.performance.knobs;
    let (progression, file_bpm) = match &args.progression_path {
        Some(path) => {
            let (progression, bpm) = load_progression(path)?;
            // Without `--bars` a progression plays its own length.
            let own = (progression.bars.len() as u32).clamp(1, MAX_BARS as u32);
            knobs.bars = args.performance.bars.unwrap_or(own);
            (progression, bpm)
        }
        None => {
            knobs.bars = args.performance.bars.unwrap_or(knobs::DEFAULT_BARS);
            args.generator.steer(&mut knobs);
            (
                generate(&args.generator, &knobs, args.performance.seed)?,
                None,
            )
        }
    };
    // Drums are written from the seed, as a fresh plugin writes them with a new phrase.
    let composed = compose::compose_progression(progression, &knobs, args.performance.seed);
    if args.generator.json {
        print_out(&format!(
            "{}\n",
            tokens_json(&composed.progression, &composed.groove)
        ))?;
    }
    let phrase = composed.phrase;
    let export = args.output.export_settings(file_bpm);
    let path = &args.output_path;
    if is_wav(path) {
        let export = export.normalized(&phrase);
        let bounced = bounce::bounce(
            &phrase,
            &BounceSettings {
                sample_rate: WAV_RATE_HZ,
                tempo_bpm: export.tempo_bpm,
                time_sig: export.time_sig,
                loops: export.loops,
                sound: SoundBlock {
                    built_in: true,
                    settings: args.output.sound,
                    kit: knobs.kit,
                },
            },
        );
        write_wav(path, &bounced)?;
        tell(&wav_summary(&bounced, &export, path));
    } else {
        let bytes = export::midi_file(&phrase, &export);
        std::fs::write(path, &bytes).map_err(|e| {
            CliError::Io(format!("cannot write MIDI file `{}`: {e}", path.display()))
        })?;
        tell(&summary(&phrase, &knobs, &export, path));
    }
    Ok(())
}

/// Writes a progression with the embedded model (or `--model`), through the plugin's own path.
fn generate(options: &GeneratorOptions, knobs: &Knobs, seed: u64) -> Result<Progression, CliError> {
    let failed = |e: String| CliError::Io(format!("the model failed: {e}"));
    let (model, name) = match &options.model_dir {
        Some(dir) => {
            let model = decoder::Model::from_dir(dir).map_err(|e| {
                CliError::BadInput(format!("cannot use the model in `{}`: {e}", dir.display()))
            })?;
            (Arc::new(model), format!("custom model ({})", dir.display()))
        }
        None => (
            decoder::Model::embedded().map_err(|e| failed(e.to_string()))?,
            "embedded model".to_owned(),
        ),
    };
    let mut source = NeuralSource::new(&model, name).map_err(|e| failed(e.to_string()))?;
    compose::write_progression(&mut source, knobs, seed, None)
        .map_err(failed)?
        .ok_or_else(|| failed("it wrote nothing".to_owned()))
}

/// The progression's tokens as Lofi Loom's JSON, with the groove beside them as `"drums"` (a
/// progression reader ignores that field).
fn tokens_json(progression: &Progression, groove: &Groove) -> String {
    let mut value = serde_json::to_value(progression).unwrap_or(serde_json::Value::Null);
    if let (Some(map), Ok(drums)) = (value.as_object_mut(), serde_json::to_value(groove)) {
        map.insert("drums".to_owned(), drums);
    }
    value.to_string()
}

/// Reads a progression file (either JSON form) and its `bpm` field, if it has one.
fn load_progression(path: &Path) -> Result<(Progression, Option<f64>), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Io(format!(
            "cannot read progression file `{}`: {e}",
            path.display()
        ))
    })?;
    let bad = |msg: String| CliError::BadInput(format!("`{}`: {msg}", path.display()));
    let progression = Progression::from_json(&text).map_err(|e| bad(e.to_string()))?;
    // `from_json` has already checked this is JSON (and, in the LOFI form, the bpm's range);
    // Lofi Loom's own form may carry a `bpm` too, so it is read here for both.
    let bpm = match serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("bpm").cloned())
    {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => {
            let (lo, hi) = export::FILE_TEMPO_RANGE_BPM;
            match value.as_f64() {
                Some(b) if (lo..=hi).contains(&b) => Some(b),
                _ => {
                    return Err(bad(format!(
                        "`bpm` is {value}, expected a number {lo}-{hi}"
                    )))
                }
            }
        }
    };
    Ok((progression, bpm))
}

/// The line printed after writing, e.g. "wrote song.mid: 4 bars at 75 BPM in 4/4 (12.8 s),
/// 960 PPQ; chords 16 notes, bass 4 notes, melody 11 notes".
fn summary(phrase: &Phrase, knobs: &Knobs, export: &ExportSettings, path: &Path) -> String {
    let export = export.normalized(phrase);
    let host_bars = phrase.bars() * export.loops;
    let bars = if export.loops > 1 {
        format!(
            "{} ({}-bar phrase x {})",
            plural(host_bars, "bar"),
            phrase.bars(),
            export.loops
        )
    } else {
        plural(host_bars, "bar")
    };
    let seconds =
        export.length_ticks(phrase) as f64 / f64::from(export.ppq) * 60.0 / export.tempo_bpm;
    let parts: Vec<String> = [
        (Part::Chords, knobs.chords),
        (Part::Bass, knobs.bass),
        (Part::Melody, knobs.melody),
        (Part::Drums, knobs.drums),
    ]
    .into_iter()
    .map(|(part, settings)| {
        let name = export::part_name(part).to_lowercase();
        if !settings.enabled {
            return format!("{name} off");
        }
        // Played from the start through to the end, every note of the phrase sounds once a loop.
        let count = phrase.notes().iter().filter(|n| n.part == part).count() as u32 * export.loops;
        format!("{name} {}", plural(count, "note"))
    })
    .collect();
    format!(
        "wrote {}: {bars} at {} BPM in {}/{} ({seconds:.1} s), {} PPQ; {}",
        path.display(),
        export.tempo_bpm,
        export.time_sig.0,
        export.time_sig.1,
        export.ppq,
        parts.join(", ")
    )
}

/// Whether `path` names a WAV file (by its extension); anything else is written as MIDI.
fn is_wav(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

/// Writes a bounce as a 24-bit stereo WAV file.
fn write_wav(path: &Path, bounced: &Bounce) -> Result<(), CliError> {
    let failed =
        |e: hound::Error| CliError::Io(format!("cannot write WAV file `{}`: {e}", path.display()));
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: bounced.sample_rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(failed)?;
    // Full scale is 2^23 − 1; the band's limiter keeps every sample below −1 dBFS.
    let full_scale = f32::from(i16::MAX) * 256.0 + 255.0;
    for (l, r) in bounced.left.iter().zip(&bounced.right) {
        for x in [l, r] {
            let sample = (x.clamp(-1.0, 1.0) * full_scale).round() as i32;
            writer.write_sample(sample).map_err(failed)?;
        }
    }
    writer.finalize().map_err(failed)
}

/// The line printed after writing a WAV file, e.g. "wrote loop.wav: 8 bars at 82 BPM in 4/4
/// (23.4 s and a 1.2 s tail), 48 kHz 24-bit stereo".
fn wav_summary(bounced: &Bounce, export: &ExportSettings, path: &Path) -> String {
    let rate = f64::from(bounced.sample_rate);
    let total = bounced.left.len() as f64 / rate;
    let loops = bounced.loop_samples as f64 / rate;
    let host_bars = (loops * export.tempo_bpm
        / 60.0
        / (f64::from(export.time_sig.0) * 4.0 / f64::from(export.time_sig.1)))
    .round() as u32;
    format!(
        "wrote {}: {} at {} BPM in {}/{} ({loops:.1} s and a {:.1} s tail), {} kHz 24-bit stereo",
        path.display(),
        plural(host_bars, "bar"),
        export.tempo_bpm,
        export.time_sig.0,
        export.time_sig.1,
        total - loops,
        bounced.sample_rate / 1000
    )
}

/// "1 bar", "4 bars".
fn plural(count: u32, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    /// Print a help text to stdout.
    Help(HelpTopic),
    /// Print the version to stdout.
    Version,
    /// Render a progression file to a MIDI file (boxed: it is much larger than the others).
    Render(Box<RenderArgs>),
}

/// Which help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HelpTopic {
    /// The program's overview.
    Main,
    /// The `render` command.
    Render,
}

impl HelpTopic {
    /// The help text.
    fn text(self) -> &'static str {
        match self {
            HelpTopic::Main => MAIN_HELP,
            HelpTopic::Render => RENDER_HELP,
        }
    }

    /// How to ask for this help.
    fn command_line(self) -> String {
        match self {
            HelpTopic::Main => format!("{BIN} --help"),
            HelpTopic::Render => format!("{BIN} render --help"),
        }
    }
}

/// Options of `render`.
#[derive(Debug, Clone, PartialEq)]
struct RenderArgs {
    /// The progression JSON file to read; None = write one with the model.
    progression_path: Option<PathBuf>,
    /// How the model writes a progression when no file is given.
    generator: GeneratorOptions,
    /// The MIDI file to write.
    output_path: PathBuf,
    /// How the MIDI file is written (its `path` already taken into `output_path`).
    output: OutputOptions,
    /// How the progression is performed.
    performance: PerformanceOptions,
}

/// Why the command failed; the variant decides the exit code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum CliError {
    /// A bad command line (exit 2); `help` is the help to point at.
    #[error("{message}")]
    Usage {
        /// What is wrong, naming the option.
        message: String,
        /// The help that explains the command.
        help: HelpTopic,
    },
    /// A readable input file with bad contents (exit 2).
    #[error("{0}")]
    BadInput(String),
    /// A file could not be read or written (exit 1).
    #[error("{0}")]
    Io(String),
}

impl CliError {
    /// A usage error of `help`'s command.
    fn usage(help: HelpTopic, message: impl Into<String>) -> CliError {
        CliError::Usage {
            message: message.into(),
            help,
        }
    }

    /// The process exit code.
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage { .. } | CliError::BadInput(_) => 2,
            CliError::Io(_) => 1,
        }
    }
}

/// One command-line token, with an option spelled as the user would type it ("--bpm", "-o")
/// so it can be matched and quoted in errors without holding a borrow of the parser.
enum Token {
    /// An option.
    Option(String),
    /// A free-standing value (a command name, a stray argument).
    Value(OsString),
}

/// The next token, or None at the end.
fn next_token(parser: &mut lexopt::Parser, help: HelpTopic) -> Result<Option<Token>, CliError> {
    let arg = parser
        .next()
        .map_err(|e| CliError::usage(help, e.to_string()))?;
    Ok(arg.map(|arg| match arg {
        lexopt::Arg::Short(c) => Token::Option(format!("-{c}")),
        lexopt::Arg::Long(name) => Token::Option(format!("--{name}")),
        lexopt::Arg::Value(v) => Token::Value(v),
    }))
}

/// Reads the command and hands the rest to its parser.
fn parse_command(mut parser: lexopt::Parser) -> Result<Command, CliError> {
    let help = HelpTopic::Main;
    match next_token(&mut parser, help)? {
        None => Err(CliError::usage(help, "no command given")),
        Some(Token::Option(opt)) => match opt.as_str() {
            "-h" | "--help" => Ok(Command::Help(HelpTopic::Main)),
            "-V" | "--version" => Ok(Command::Version),
            _ => Err(CliError::usage(help, format!("unknown option `{opt}`"))),
        },
        Some(Token::Value(name)) => match name.to_str() {
            Some("render") => parse_render(&mut parser),
            Some("help") => parse_help(&mut parser),
            _ => Err(CliError::usage(
                help,
                format!("unknown command `{}`", name.to_string_lossy()),
            )),
        },
    }
}

/// `help [COMMAND]`.
fn parse_help(parser: &mut lexopt::Parser) -> Result<Command, CliError> {
    let help = HelpTopic::Main;
    let topic = match next_token(parser, help)? {
        None => HelpTopic::Main,
        Some(Token::Value(v)) if v == "render" => HelpTopic::Render,
        Some(Token::Value(v)) => {
            return Err(CliError::usage(
                help,
                format!("no help for unknown command `{}`", v.to_string_lossy()),
            ))
        }
        Some(Token::Option(opt)) => {
            return Err(CliError::usage(help, format!("unexpected option `{opt}`")))
        }
    };
    Ok(Command::Help(topic))
}

/// The options of `render` (or its help).
fn parse_render(parser: &mut lexopt::Parser) -> Result<Command, CliError> {
    let help = HelpTopic::Render;
    let mut progression_path = None;
    let mut output = OutputOptions::default();
    let mut performance = PerformanceOptions::default();
    let mut generator = GeneratorOptions::default();
    while let Some(token) = next_token(parser, help)? {
        let opt = match token {
            Token::Option(opt) => opt,
            Token::Value(v) => {
                return Err(CliError::usage(
                    help,
                    format!(
                        "unexpected argument `{0}` (give the input as `--progression {0}`)",
                        v.to_string_lossy()
                    ),
                ))
            }
        };
        let mut args = OptionArgs {
            parser: &mut *parser,
            opt: &opt,
            help,
        };
        match opt.as_str() {
            "-h" | "--help" => return Ok(Command::Help(help)),
            "-p" | "--progression" => progression_path = Some(args.path()?),
            _ if output.parse(&mut args)?
                || performance.parse(&mut args)?
                || generator.parse(&mut args)? => {}
            _ => return Err(args.error("unknown option")),
        }
    }
    if progression_path.is_some() && generator.given {
        return Err(CliError::usage(
            help,
            "`--valence`, `--key` and `--mode` steer the model: leave out `--progression` to use them",
        ));
    }
    let output_path = output
        .path
        .take()
        .ok_or_else(|| CliError::usage(help, "missing `-o <OUT.mid|OUT.wav>`"))?;
    Ok(Command::Render(Box::new(RenderArgs {
        progression_path,
        generator,
        output_path,
        output,
        performance,
    })))
}

/// An option being parsed: the parser (for its value), its spelling and the help to cite.
struct OptionArgs<'a> {
    /// The parser, positioned after the option.
    parser: &'a mut lexopt::Parser,
    /// The option as typed, e.g. "--bpm".
    opt: &'a str,
    /// The help of the command being parsed.
    help: HelpTopic,
}

impl OptionArgs<'_> {
    /// A usage error about this option.
    fn error(&self, what: impl fmt::Display) -> CliError {
        CliError::usage(self.help, format!("{what} `{}`", self.opt))
    }

    /// The option's value as text.
    fn value(&mut self) -> Result<String, CliError> {
        let value = self
            .parser
            .value()
            .map_err(|e| CliError::usage(self.help, e.to_string()))?;
        value.into_string().map_err(|v| {
            CliError::usage(
                self.help,
                format!(
                    "`{}`: `{}` is not valid text",
                    self.opt,
                    v.to_string_lossy()
                ),
            )
        })
    }

    /// The option's value as a path (any bytes the OS allows).
    fn path(&mut self) -> Result<PathBuf, CliError> {
        let value = self
            .parser
            .value()
            .map_err(|e| CliError::usage(self.help, e.to_string()))?;
        Ok(PathBuf::from(value))
    }

    /// A usage error about this option's value.
    fn bad_value(&self, value: &str, expected: &str) -> CliError {
        CliError::usage(
            self.help,
            format!("`{}`: `{value}` is not {expected}", self.opt),
        )
    }

    /// The option's value parsed as `T` and accepted by `valid`; `expected` describes a
    /// valid value for the error message.
    fn parsed<T: FromStr>(
        &mut self,
        valid: impl Fn(&T) -> bool,
        expected: &str,
    ) -> Result<T, CliError> {
        let text = self.value()?;
        match text.trim().parse() {
            Ok(x) if valid(&x) => Ok(x),
            _ => Err(self.bad_value(&text, expected)),
        }
    }

    /// The option's value inside a knob's range.
    fn knob(&mut self, range: KnobRange) -> Result<f32, CliError> {
        Ok(self.number_in((f64::from(range.min), f64::from(range.max)))? as f32)
    }

    /// The option's value as a number in `lo..=hi` (NaN and infinities are out of range).
    fn number_in(&mut self, (lo, hi): (f64, f64)) -> Result<f64, CliError> {
        let expected = format!("a number {lo}-{hi}");
        let text = self.value()?;
        match text.trim().parse::<f64>() {
            Ok(x) if (lo..=hi).contains(&x) => Ok(x),
            _ => Err(self.bad_value(&text, &expected)),
        }
    }
}

/// Where and how a MIDI or WAV file is written: shared by every command that writes one.
#[derive(Debug, Clone, PartialEq)]
struct OutputOptions {
    /// `--preset`: the built-in band's sound for a WAV file.
    sound: SoundSettings,
    /// `-o`: the file to write.
    path: Option<PathBuf>,
    /// `--bpm`; None = the input's own tempo, else [`export::DEFAULT_TEMPO_BPM`].
    tempo_bpm: Option<f64>,
    /// `--time-sig`.
    time_sig: (u8, u8),
    /// `--ppq`.
    ppq: u16,
    /// `--loops`.
    loops: u32,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            sound: SoundSettings::default(),
            path: None,
            tempo_bpm: None,
            time_sig: (4, 4),
            ppq: export::DEFAULT_PPQ,
            loops: 1,
        }
    }
}

impl OutputOptions {
    /// Takes the option if it is one of ours; returns whether it was.
    fn parse(&mut self, args: &mut OptionArgs) -> Result<bool, CliError> {
        match args.opt {
            "-o" | "--output" => self.path = Some(args.path()?),
            "--preset" => {
                let names: Vec<&str> = PRESETS.iter().map(|(name, _)| *name).collect();
                let expected = format!("a sound preset: {}", names.join(", "));
                let text = args.value()?;
                let wanted = text.trim().replace(['-', '_'], " ");
                self.sound = PRESETS
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&wanted))
                    .map(|(_, settings)| *settings)
                    .ok_or_else(|| args.bad_value(&text, &expected))?;
            }
            "--bpm" => self.tempo_bpm = Some(args.number_in(export::FILE_TEMPO_RANGE_BPM)?),
            "--time-sig" => self.time_sig = parse_time_sig(args)?,
            "--ppq" => self.ppq = args.parsed(|p| PPQ_CHOICES.contains(p), "480 or 960")?,
            "--loops" => {
                let expected = format!("a whole number 1-{}", export::MAX_LOOPS);
                self.loops = args.parsed(|n| (1..=export::MAX_LOOPS).contains(n), &expected)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The export settings, with the input's tempo (if any) standing in for a missing `--bpm`.
    fn export_settings(&self, input_bpm: Option<f64>) -> ExportSettings {
        ExportSettings {
            tempo_bpm: self
                .tempo_bpm
                .or(input_bpm)
                .unwrap_or(export::DEFAULT_TEMPO_BPM),
            time_sig: self.time_sig,
            ppq: self.ppq,
            loops: self.loops,
        }
    }
}

/// `--time-sig N/D`, checked against what the sequencer follows.
fn parse_time_sig(args: &mut OptionArgs) -> Result<(u8, u8), CliError> {
    let expected = "N/D with N 1-64 and D 1, 2, 4, 8, 16, 32 or 64 (e.g. 3/4)";
    let text = args.value()?;
    let parsed = text
        .split_once('/')
        .and_then(|(n, d)| Some((n.trim().parse().ok()?, d.trim().parse().ok()?)));
    match parsed {
        Some(sig) if export::time_sig_supported(sig) => Ok(sig),
        _ => Err(args.bad_value(&text, expected)),
    }
}

/// How the model writes a progression (only without `--progression`). Unset options keep the
/// plugin's defaults.
#[derive(Debug, Clone, PartialEq, Default)]
struct GeneratorOptions {
    /// `--valence`.
    valence: Option<f32>,
    /// `--key`: fixed tonic 0–11 (unset: the seed's).
    key: Option<u8>,
    /// `--mode`: fixed mode (unset: the model's choice).
    mode: Option<Mode>,
    /// `--temperature`.
    temperature: Option<f32>,
    /// `--top-p`.
    top_p: Option<f32>,
    /// `--model`: a model folder instead of the built-in model.
    model_dir: Option<PathBuf>,
    /// `--json`: also print the progression's tokens to stdout.
    json: bool,
    /// Whether an option that only steers the model was given.
    given: bool,
}

impl GeneratorOptions {
    /// Applies the options given to `knobs`.
    fn steer(&self, knobs: &mut Knobs) {
        knobs.valence = self.valence.unwrap_or(knobs.valence);
        knobs.key = self.key.or(knobs.key);
        knobs.mode = self.mode.or(knobs.mode);
        let sampling = &mut knobs.sampling;
        sampling.temperature = self.temperature.unwrap_or(sampling.temperature);
        sampling.top_p = self.top_p.unwrap_or(sampling.top_p);
    }

    /// Takes the option if it is one of ours; returns whether it was.
    fn parse(&mut self, args: &mut OptionArgs) -> Result<bool, CliError> {
        match args.opt {
            "--valence" => self.valence = Some(args.knob(knobs::VALENCE)?),
            "--key" => {
                let text = args.value()?;
                self.key = Some(parse_key(&text).ok_or_else(|| {
                    args.bad_value(&text, "a key name C, C#, Db, … B or a number 0-11")
                })?);
            }
            "--mode" => {
                let text = args.value()?;
                self.mode = Some(parse_mode(&text).ok_or_else(|| {
                    args.bad_value(
                        &text,
                        "a mode name (ionian, dorian, … locrian, major, minor) or 1-7",
                    )
                })?);
            }
            "--temperature" => self.temperature = Some(args.knob(knobs::TEMPERATURE)?),
            "--top-p" => self.top_p = Some(args.knob(knobs::TOP_P)?),
            "--model" => self.model_dir = Some(PathBuf::from(args.value()?)),
            "--json" => {
                self.json = true;
                return Ok(true);
            }
            _ => return Ok(false),
        }
        self.given = true;
        Ok(true)
    }
}

/// "C", "c#", "Db", "Bb" or 0–11.
fn parse_key(text: &str) -> Option<u8> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u8>() {
        return (n <= 11).then_some(n);
    }
    let mut chars = t.chars();
    let letter = chars.next()?.to_ascii_uppercase();
    let base: i32 = match letter {
        'C' => 0,
        'D' => 2,
        'E' => 4,
        'F' => 5,
        'G' => 7,
        'A' => 9,
        'B' => 11,
        _ => return None,
    };
    let shift = match chars.as_str() {
        "" => 0,
        "#" | "♯" => 1,
        "b" | "♭" => -1,
        _ => return None,
    };
    Some((base + shift).rem_euclid(12) as u8)
}

/// A mode by name ("dorian", "major", "minor") or number 1–7 (LOFI order).
fn parse_mode(text: &str) -> Option<Mode> {
    let t = text.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<usize>() {
        return Mode::ALL.get(n.checked_sub(1)?).copied();
    }
    match t.as_str() {
        "major" => Some(Mode::Ionian),
        "minor" => Some(Mode::Aeolian),
        _ => Mode::ALL
            .into_iter()
            .find(|m| m.name().to_ascii_lowercase() == t),
    }
}

/// How the progression is performed: shared by every command that renders one. Starts at a
/// fresh plugin's knobs.
#[derive(Debug, Clone, PartialEq, Default)]
struct PerformanceOptions {
    /// Everything that shapes the phrase but the model's own options.
    knobs: Knobs,
    /// `--bars` (unset: the model's default length, or a progression file's own).
    bars: Option<u32>,
    /// `--seed`: the phrase's seed (humanize, and the model's draws).
    seed: u64,
}

impl PerformanceOptions {
    /// Takes the option if it is one of ours; returns whether it was.
    fn parse(&mut self, args: &mut OptionArgs) -> Result<bool, CliError> {
        let k = &mut self.knobs;
        match args.opt {
            "--bars" => {
                self.bars = Some(args.parsed(|n| knobs::PHRASE_BARS.contains(n), "1, 2, 4 or 8")?);
            }
            "--swing" => k.swing_pct = args.knob(knobs::SWING_PCT)?,
            "--humanize" => k.humanize_pct = args.knob(knobs::HUMANIZE_PCT)?,
            "--seed" => {
                self.seed = args.parsed(|_: &u64| true, "a whole number 0-18446744073709551615")?
            }
            "--energy" => k.energy = args.knob(knobs::ENERGY)?,
            "--lazy" => k.lazy_pct = args.knob(knobs::LAZY_PCT)?,
            "--kit" => {
                k.kit = args
                    .parsed(
                        |_: &KitArg| true,
                        "gm (General MIDI) or chromatic (from C1)",
                    )?
                    .0
            }
            "--channels" => {
                let channels = parse_channels(args)?;
                let parts = [&mut k.chords, &mut k.bass, &mut k.melody, &mut k.drums];
                for (part, channel) in parts.into_iter().zip(channels) {
                    part.channel = channel;
                }
            }
            "--no-chords" => k.chords.enabled = false,
            "--no-bass" => k.bass.enabled = false,
            "--no-melody" => k.melody.enabled = false,
            "--no-drums" => k.drums.enabled = false,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// `--channels C,B,M[,D]`: user channels 1–16 of chords, bass, melody and (optionally) drums,
/// returned 0-based.
fn parse_channels(args: &mut OptionArgs) -> Result<Vec<u8>, CliError> {
    let (lo, hi) = knobs::CHANNELS;
    let expected = format!(
        "three or four channels {lo}-{hi} for chords, bass, melody and drums (e.g. 1,2,3,10)"
    );
    let text = args.value()?;
    let channels: Option<Vec<u8>> = text
        .split(',')
        .map(|c| c.trim().parse().ok().filter(|c| (lo..=hi).contains(c)))
        .map(|c: Option<u8>| c.map(|c| c - 1))
        .collect();
    match channels {
        Some(c) if (3..=4).contains(&c.len()) => Ok(c),
        _ => Err(args.bad_value(&text, &expected)),
    }
}

/// `--kit`'s value.
struct KitArg(KitMap);

impl FromStr for KitArg {
    type Err = ();

    fn from_str(s: &str) -> Result<KitArg, ()> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gm" | "general-midi" => Ok(KitArg(KitMap::GeneralMidi)),
            "chromatic" => Ok(KitArg(KitMap::Chromatic)),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The help text of `option` (`--name <VALUE>`): from its name to the next option's line.
    fn option_help(option: &str) -> &'static str {
        let start = RENDER_HELP
            .find(&format!("  {option} <"))
            .unwrap_or_else(|| panic!("{option} is in the help"));
        let rest = &RENDER_HELP[start + 2..];
        let end = rest.find("\n      --").unwrap_or(rest.len());
        &rest[..end]
    }

    /// The help states each knob's range and default as `music::knobs` declares them, so the
    /// text cannot drift from what the parser accepts and what the plugin defaults to.
    #[test]
    fn the_help_states_the_ranges_and_defaults_declared_in_knobs() {
        let ranges = [
            ("--energy", knobs::ENERGY),
            ("--valence", knobs::VALENCE),
            ("--swing", knobs::SWING_PCT),
            ("--humanize", knobs::HUMANIZE_PCT),
            ("--lazy", knobs::LAZY_PCT),
            ("--temperature", knobs::TEMPERATURE),
            ("--top-p", knobs::TOP_P),
        ];
        for (option, range) in ranges {
            let text = option_help(option);
            let span = format!("{}-{}", range.min, range.max);
            let default = format!("[default: {}]", range.default);
            assert!(text.contains(&span), "{option}: {span} in {text:?}");
            assert!(text.contains(&default), "{option}: {default} in {text:?}");
        }
        let bars = knobs::PHRASE_BARS.map(|b| b.to_string());
        let (last, first) = bars.split_last().expect("phrase lengths");
        let lengths = format!("{} or {last}", first.join(", "));
        assert!(option_help("--bars").contains(&lengths), "{lengths}");
        let model = &RENDER_HELP[RENDER_HELP.find("The model").expect("model section")..];
        assert!(model.contains(&format!(
            "--bars is the length it writes [default: {}]",
            knobs::DEFAULT_BARS
        )));
        let k = Knobs::default();
        let channels = [k.chords, k.bass, k.melody, k.drums].map(|p| (p.channel + 1).to_string());
        let channels_help = option_help("--channels");
        assert!(channels_help.contains(&format!("{}-{}", knobs::CHANNELS.0, knobs::CHANNELS.1)));
        assert!(channels_help.contains(&format!("[default: {}]", channels.join(","))));
    }
}
