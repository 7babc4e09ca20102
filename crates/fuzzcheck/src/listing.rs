//! The run listing (`ops::listing::list_folder`, the one rule of the CLI, the host, Python and
//! Ray) over a virtual folder tree written by the fuzzer: no file system is touched, so any
//! name, kind and layout can be tried at full speed.
//!
//! Input: a first line of flags and up to two `--save-debug-*` templates, then one entry a
//! line, `folder \t kind name` (`folder` relative to the run's root, "" for the root; `kind`
//! `f` file, `d` folder, anything else a link, FIFO or device). A folder is a folder when it
//! holds an entry or its parent lists it with `d`; `folder` `!x` cannot be read.
//!
//! Checked on every listing that succeeds: every file listed is a regular file (`f`) of a
//! folder the listing may read, named as that entry is (no `.` start, no `/`), listed once, in
//! order, at most `MAX_RUN_FILES`; every dump and train file of the layout is a listed file;
//! a listing is the same when asked twice.

use std::collections::BTreeMap;

use ops::listing::{list_folder, Entry, Kind, Listing};
use trace::run::{Templates, MAX_RUN_FILES};

/// A virtual run: folder → entries, and the listing's arguments.
struct Tree {
    folders: BTreeMap<String, Vec<Entry>>,
    folder_name: &'static str,
    siblings: bool,
    templates: Templates,
}

fn parse(data: &[u8]) -> Tree {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let flags = lines.next().unwrap_or("");
    let mut words = flags.split('\t');
    let bits = words.next().and_then(|w| w.bytes().next()).unwrap_or(0);
    let mut template = |on: bool| {
        let t = words.next().unwrap_or("");
        (on && !t.is_empty()).then(|| t.to_string())
    };
    let rollout = template(bits & 4 != 0);
    let train = template(bits & 8 != 0);
    let mut folders: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for line in lines {
        let Some((folder, rest)) = line.split_once('\t') else {
            continue;
        };
        let mut chars = rest.chars();
        let kind = match chars.next() {
            Some('f') => Kind::File,
            Some('d') => Kind::Dir,
            Some(_) => Kind::Other,
            None => continue,
        };
        let name = chars.as_str().to_string();
        if kind == Kind::Dir {
            let sub = if folder.is_empty() {
                name.clone()
            } else {
                format!("{folder}/{name}")
            };
            folders.entry(sub).or_default();
        }
        let size = name.len() as u64;
        folders
            .entry(folder.to_string())
            .or_default()
            .push(Entry { name, kind, size });
    }
    Tree {
        folders,
        folder_name: if bits & 2 != 0 { "rollout_data" } else { "run" },
        siblings: bits & 1 != 0,
        templates: Templates { rollout, train },
    }
}

fn list(tree: &Tree) -> Result<Listing, String> {
    let mut dir = |sub: &str| -> Result<Option<Vec<Entry>>, String> {
        if sub.starts_with('!') {
            return Err(format!("{sub}: cannot be read"));
        }
        Ok(tree.folders.get(sub).cloned())
    };
    list_folder(
        tree.folder_name,
        "fuzz",
        tree.siblings,
        &tree.templates,
        &mut dir,
    )
}

/// See the module doc.
pub fn check_run_listing(data: &[u8]) {
    let tree = parse(data);
    let first = list(&tree);
    let again = list(&tree);
    match (&first, &again) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.files, b.files, "the same listing twice");
            assert_eq!(format!("{:?}", a.layout), format!("{:?}", b.layout));
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("one listing failed, the same again did not: {first:?} / {again:?}"),
    }
    let Ok(listing) = first else { return };
    let files = &listing.files;
    assert!(files.len() <= MAX_RUN_FILES, "{} files", files.len());
    assert!(
        files.windows(2).all(|w| w[0].0 < w[1].0),
        "files sorted, each once"
    );
    for (rel, size) in files {
        let (folder, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        assert!(
            !name.is_empty() && !name.starts_with('.'),
            "listed {rel:?}: a hidden or empty name"
        );
        let entries = tree.folders.get(folder).unwrap_or_else(|| {
            panic!("listed {rel:?} from {folder:?}, a folder that is not there")
        });
        assert!(
            entries
                .iter()
                .any(|e| e.kind == Kind::File && e.name == name && e.size == *size),
            "listed {rel:?}, which is not a regular file of {folder:?}"
        );
    }
    let listed = |path: &str| files.iter().any(|(f, _)| f == path);
    for d in &listing.layout.dumps {
        assert!(listed(&d.file), "dump {:?} is not a listed file", d.file);
        if let Some(t) = &d.train_file {
            assert!(listed(t), "train file {t:?} is not a listed file");
        }
    }
    for (_, t) in &listing.layout.train {
        assert!(listed(t), "train file {t:?} is not a listed file");
    }
    if let Some(t) = &listing.layout.tokenizer {
        assert!(listed(t), "tokenizer {t:?} is not a listed file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slime run with a planted link and a FIFO: the link and the FIFO are skipped and
    /// named, the dumps and train data are paired.
    #[test]
    fn a_run_with_a_planted_link_lists_only_regular_files() {
        let data = "\x01\n\
                    \tdrollout_data\n\
                    \tdtrain_data\n\
                    \tltokenizer\n\
                    rollout_data\tf0.pt\n\
                    rollout_data\tf1.pt\n\
                    rollout_data\tleval_0.pt\n\
                    rollout_data\tpfifo.pt\n\
                    train_data\tf0.pt\n";
        check_run_listing(data.as_bytes());
        let listing = list(&parse(data.as_bytes())).unwrap();
        let files: Vec<&str> = listing.files.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            files,
            ["rollout_data/0.pt", "rollout_data/1.pt", "train_data/0.pt"]
        );
        assert_eq!(listing.layout.dumps.len(), 2);
        assert!(
            listing
                .layout
                .notes
                .iter()
                .any(|n| n.contains("3 entries skipped") && n.contains("eval_0.pt")),
            "{:?}",
            listing.layout.notes
        );
    }

    /// The committed seeds (`fuzz/regressions/run_listing/*.txt`; the `.bin` files there are
    /// findings) are runs that list: a slime run with a planted link, a templated run, verl's
    /// step logs beside a tokenizer.
    #[test]
    fn the_seeds_are_runs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/regressions/run_listing");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "txt") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            let listing = list(&parse(&data)).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert!(listing.layout.dumps.len() >= 2, "{path:?}: {listing:?}");
            seen += 1;
        }
        assert_eq!(seen, 3);
    }
}
