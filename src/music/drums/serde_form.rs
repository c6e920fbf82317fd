//! The groove's serde form: per bar a map from drum name to a 16-character row.
//!
//! `{"kick": "X.........x.....", "snare": "....X.......X...", "closed_hat": "x.x.x.x.x.x.x.x."}`
//! — silent drums omitted, drums in [`DrumSound`] order. Reading is strict and every error names
//! its field (`bars[2].kick: …`), because a session file edited by hand should say exactly what
//! is wrong rather than silently play something else. Used only on the worker or GUI thread
//! (saving, loading, `--json`); it allocates freely.

use super::{DrumBar, DrumSound, MAX_BARS};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

impl Serialize for DrumBar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let sounding = DrumSound::ALL.iter().filter(|&&s| self.sounds(s)).count();
        let mut map = serializer.serialize_map(Some(sounding))?;
        for sound in DrumSound::ALL {
            if self.sounds(sound) {
                map.serialize_entry(sound.name(), &self.row_string(sound))?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DrumBar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DrumBar, D::Error> {
        BarSeed { field: None }.deserialize(deserializer)
    }
}

/// `Groove::bars`: a sequence of 1..=[`MAX_BARS`] bars, each error prefixed with `bars[i]`.
pub(super) fn deserialize_bars<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<DrumBar>, D::Error> {
    deserializer.deserialize_seq(BarsVisitor)
}

/// Reads the `bars` list.
struct BarsVisitor;

impl<'de> Visitor<'de> for BarsVisitor {
    type Value = Vec<DrumBar>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of 1 to {MAX_BARS} drum bars")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<DrumBar>, A::Error> {
        let mut bars = Vec::new();
        loop {
            let field = format!("bars[{}]", bars.len());
            let Some(bar) = seq.next_element_seed(BarSeed {
                field: Some(field.clone()),
            })?
            else {
                break;
            };
            if bars.len() == MAX_BARS {
                return Err(de::Error::custom(format!(
                    "`{field}`: a groove has at most {MAX_BARS} bars"
                )));
            }
            bars.push(bar);
        }
        if bars.is_empty() {
            return Err(de::Error::custom("`bars`: a groove has at least 1 bar"));
        }
        Ok(bars)
    }
}

/// Reads one bar; `field` (e.g. `bars[2]`) prefixes its errors when known.
struct BarSeed {
    /// Where the bar sits, for messages.
    field: Option<String>,
}

impl BarSeed {
    /// `bars[2].kick`, or just `kick` when the bar's place is unknown.
    fn path(&self, key: &str) -> String {
        match &self.field {
            Some(field) => format!("{field}.{key}"),
            None => key.to_owned(),
        }
    }
}

impl<'de> DeserializeSeed<'de> for BarSeed {
    type Value = DrumBar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<DrumBar, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BarSeed {
    type Value = DrumBar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = &self.field {
            write!(f, "`{field}` to be ")?;
        }
        f.write_str("a map from drum name to a 16-step row of '.', 'g', 'x', 'X'")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DrumBar, A::Error> {
        let mut bar = DrumBar::EMPTY;
        let mut seen = [false; DrumSound::COUNT];
        while let Some(key) = map.next_key::<String>()? {
            let path = self.path(&key);
            let Some(sound) = DrumSound::from_name(&key) else {
                let known: Vec<&str> = DrumSound::ALL.iter().map(|s| s.name()).collect();
                return Err(de::Error::custom(format!(
                    "`{path}`: unknown drum (expected one of {})",
                    known.join(", ")
                )));
            };
            if std::mem::replace(&mut seen[sound.index()], true) {
                return Err(de::Error::custom(format!("`{path}`: given twice")));
            }
            let row: String = map
                .next_value()
                .map_err(|e| de::Error::custom(format!("`{path}`: {e}")))?;
            bar.cells[sound.index()] = DrumBar::parse_row(&row)
                .map_err(|e| de::Error::custom(format!("`{path}`: {e}")))?;
        }
        Ok(bar)
    }
}
