//! The rating studies a server hosts, loaded once at start from bundles of `srkd study export`.
//! Raters get a view of each study without method names: every item's method is replaced by
//! an opaque `item-N` and the provenance is dropped, so the page can run the study while the
//! methods stay on the server. Only files the study names can be fetched from its folder.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use srkd_core::study::{Study, StudyItem};

use crate::fsio;

pub struct HostedStudy {
    pub study: Study,
    /// `study.json` as raters see it.
    pub rater_view: Vec<u8>,
    /// url (as named in study.json) → file on disk.
    files: HashMap<String, PathBuf>,
}

impl HostedStudy {
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("study.json");
        let text = String::from_utf8(fsio::read(&path)?).map_err(|_| anyhow!("{}: not UTF-8", path.display()))?;
        let study = Study::parse(&path.display().to_string(), &text)?;
        if study.methods_hidden {
            bail!("{}: a rater's view (methods hidden); serve the bundle `srkd study export` wrote", path.display());
        }
        let mut files = HashMap::new();
        for item in study.items.iter().chain(&study.training) {
            let file = dir.join(&item.url);
            if !file.is_file() {
                bail!("{}: names `{}`, which is not in {}", path.display(), item.url, dir.display());
            }
            files.insert(item.url.clone(), file);
        }
        let hidden = |(index, item): (usize, &StudyItem)| StudyItem {
            image: item.image.clone(),
            method: opaque_method(index),
            url: item.url.clone(),
        };
        let view = Study {
            id: study.id.clone(),
            title: study.title.clone(),
            training: study.training.as_ref().map(|t| StudyItem {
                image: t.image.clone(),
                method: "training".into(),
                url: t.url.clone(),
            }),
            items: study.items.iter().enumerate().map(hidden).collect(),
            methods_hidden: true,
            provenance: serde_json::Value::Null,
        };
        let rater_view = serde_json::to_vec(&view).context("serializing the rater view")?;
        Ok(Self { study, rater_view, files })
    }

    pub fn file(&self, url: &str) -> Option<&Path> {
        self.files.get(url).map(PathBuf::as_path)
    }

    /// The item a rater's `item-N` stands for.
    pub fn item(&self, index: usize) -> Option<&StudyItem> {
        self.study.items.get(index)
    }
}

/// The name raters see for item `index`.
pub fn opaque_method(index: usize) -> String {
    format!("item-{index}")
}

/// Studies by id, in the order given (the first is also served at `/study/`, the page's default).
pub struct Studies {
    pub by_id: BTreeMap<String, HostedStudy>,
    pub default_id: Option<String>,
}

impl Studies {
    pub fn load(dirs: &[PathBuf]) -> Result<Self> {
        let mut by_id = BTreeMap::new();
        let mut default_id = None;
        for dir in dirs {
            let hosted = HostedStudy::load(dir)?;
            let id = hosted.study.id.clone();
            if by_id.contains_key(&id) {
                bail!("{}: study id `{id}` is already served from another --study folder", dir.display());
            }
            default_id.get_or_insert_with(|| id.clone());
            by_id.insert(id, hosted);
        }
        Ok(Self { by_id, default_id })
    }

    pub fn get(&self, id: &str) -> Option<&HostedStudy> {
        self.by_id.get(id)
    }
}
