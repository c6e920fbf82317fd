//! The worker's adapter to the decoder: a [`PhraseSource`] that turns knobs, a seed and the
//! locks into [`GenerateParams`] for the tract decoder. The decoder itself knows nothing of
//! the worker.

use super::source::{Alternative, Choice, PhraseSource};
use crate::decoder::{GenerateParams, Generator, Model, ModelError};
use crate::music::knobs::Knobs;
use crate::music::progression::Progression;
use std::path::Path;

/// The neural [`PhraseSource`]: writes a progression for the knobs and seed of each request.
/// Owned by the worker thread; build it there or at activation (loading is slow the first time).
#[derive(Debug)]
pub struct NeuralSource {
    /// Runs the model.
    generator: Generator,
    /// What the status line calls this source ("embedded model" or the custom folder).
    name: String,
    /// Why the user's model folder was refused, if it was (the embedded model is used instead).
    pub custom_model_error: Option<ModelError>,
}

impl NeuralSource {
    /// A source running an already loaded `model`, shown as `name`.
    pub fn new(model: &Model, name: impl Into<String>) -> Result<NeuralSource, ModelError> {
        Ok(NeuralSource {
            generator: Generator::new(model)?,
            name: name.into(),
            custom_model_error: None,
        })
    }

    /// A source running the user's model folder if one is given and valid, else the embedded
    /// model (the reason is kept in [`NeuralSource::custom_model_error`] and logged). Loads the
    /// embedded model on first use: call it on the worker thread.
    pub fn load(custom_dir: Option<&Path>) -> Result<NeuralSource, ModelError> {
        let (model, custom_error) = Model::custom_or_embedded(custom_dir)?;
        let name = match (custom_dir, &custom_error) {
            (Some(dir), None) => format!("custom model ({})", dir.display()),
            _ => "embedded model".to_string(),
        };
        if let Some(e) = &custom_error {
            tracing::warn!("Lofi Loom is using its built-in model: {e}");
        }
        let mut source = NeuralSource::new(&model, name)?;
        source.custom_model_error = custom_error;
        Ok(source)
    }

    /// The generator, e.g. for tokens or draws.
    pub fn generator(&mut self) -> &mut Generator {
        &mut self.generator
    }
}

impl PhraseSource for NeuralSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn warning(&self) -> Option<String> {
        self.custom_model_error
            .as_ref()
            .map(|e| format!("your model was not used, the built-in one plays instead: {e}"))
    }

    fn progression(
        &mut self,
        knobs: &Knobs,
        seed: u64,
        playing: Option<&Progression>,
    ) -> Result<Option<Progression>, String> {
        self.generator
            .generate(&params(knobs, seed, playing))
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn warm_up(&mut self) {
        if let Err(e) = self.generator.prepare_candidates() {
            tracing::warn!("Lofi Loom will write new phrases without candidates: {e}");
        }
    }

    fn choose(
        &mut self,
        knobs: &Knobs,
        seed: u64,
        playing: Option<&Progression>,
    ) -> Result<Option<Choice>, String> {
        let candidates = self
            .generator
            .candidates(&params(knobs, seed, playing))
            .map_err(|e| e.to_string())?;
        Ok(Some(Choice {
            seed: candidates.chosen().seed,
            alternatives: candidates
                .runners_up()
                .into_iter()
                .map(|c| Alternative {
                    seed: c.seed,
                    progression: c.progression.clone(),
                    energy: c.energy,
                    valence: c.valence,
                })
                .collect(),
        }))
    }
}

/// What the decoder is asked for `knobs` and `seed`: the Lock switches keep what plays now
/// (bars beyond it stay free), and chords heard from the musician are kept the way Lock
/// chords keeps the playing ones.
fn params(knobs: &Knobs, seed: u64, playing: Option<&Progression>) -> GenerateParams {
    let mut params = GenerateParams::from_knobs(knobs, seed);
    if let Some(playing) = playing {
        if knobs.lock_chords {
            params = params.lock_chords_of(playing);
        }
        if knobs.lock_rhythm {
            params = params.lock_rhythm_of(playing);
        }
    }
    params.lock_heard_chords(&knobs.heard_chords)
}
