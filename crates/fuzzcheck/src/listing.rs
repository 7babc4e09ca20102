//! The run listing (`ops::listing::list_folder`, the one rule of the CLI, the host, Python and
//! Ray) over a virtual folder tree written by the fuzzer: no file system is touched, so any
//! name, kind and layout can be tried at full speed.
//!
//! Input: a first line of flags and up to two `--save-debug-*` templates, then one entry a
//! line, `folder \t kind name` (`folder` relative to the run's root, "" for the root; `kind`
//! `f` file, `d` folder, anything else a link, FIFO or device). The folder given (the root, or
//! `rollout_data` when its siblings are used) is a folder when the tree holds it; any other
//! folder only when its parent is one and lists it with `d`, as a file system's lister says
//! without following links (entries under a name listed `l` are a linked folder's: not a
//! folder). A folder `!x` cannot be read.
//!
//! Checked on every input: the listing is what `ops::listing`'s rules say of the tree
//! (`expected`, written from those rules, not by calling them): exactly the regular files
//! with valid names of the folders it may read, each once, sorted, or the error the rules give;
//! the links and special files of those folders counted and named in a note; the step-log
//! folders that cannot be read named; every dump, train file and tokenizer of the layout a
//! listed file; the same listing when asked twice.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use ops::listing::{list_folder, Entry, Kind, Lister, Listing, MAX_VERL_FOLDERS, SKIPPED_NAMED};
use trace::run::{layout_with, Templates, MAX_RUN_FILES};

/// A virtual run: folder → entries, and the listing's arguments.
struct Tree {
    folders: BTreeMap<String, Vec<Entry>>,
    folder_name: &'static str,
    siblings: bool,
    templates: Templates,
}

/// The subfolders of slime's layout, read beside the run's own files.
const SLIME_SUBS: [&str; 3] = ["rollout_data", "train_data", "tokenizer"];

/// What shows in the messages as the run's name.
const SHOWN: &str = "fuzz";

impl Tree {
    /// Whether the run's root is the parent of the folder given (a `rollout_data` with its
    /// siblings used).
    fn root_is_parent(&self) -> bool {
        self.siblings && self.folder_name == "rollout_data"
    }

    /// The folder given, relative to the run's root.
    fn given(&self) -> &'static str {
        if self.root_is_parent() {
            "rollout_data"
        } else {
            ""
        }
    }

    /// Whether `sub` is a folder (see the module doc).
    fn is_folder(&self, sub: &str) -> bool {
        if sub == self.given() || sub.is_empty() {
            return self.folders.contains_key(sub);
        }
        let (parent, name) = sub.rsplit_once('/').unwrap_or(("", sub));
        self.is_folder(parent)
            && self.folders[parent]
                .iter()
                .any(|e| e.kind == Kind::Dir && e.name == name)
    }

    /// The model's lister: a folder's entries, `None` for anything else.
    fn dir(&self, sub: &str) -> Result<Option<Vec<Entry>>, String> {
        if sub.starts_with('!') {
            return Err(format!("{sub}: cannot be read"));
        }
        Ok(self
            .folders
            .get(sub)
            .filter(|_| self.is_folder(sub))
            .cloned())
    }
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
    list_with(tree, &mut |sub| tree.dir(sub))
}

fn list_with(tree: &Tree, dir: &mut Lister) -> Result<Listing, String> {
    let name = tree.folder_name;
    list_folder(name, SHOWN, tree.siblings, &tree.templates, dir)
}

/// What a listing of a tree should give, by the rules.
#[derive(Debug, Default)]
struct Expected {
    /// The regular files listed, as `(path, size)`.
    files: BTreeSet<(String, u64)>,
    /// How many regular files were met (a name twice counts twice): what the cap counts.
    kept: usize,
    /// The links and special files skipped, sorted.
    skipped: Vec<String>,
    /// Step-log folders searched that cannot be read.
    unread: Vec<String>,
}

/// A name a listing may list: not empty, not hidden, one path component.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains('/')
}

/// verl's step log name: `{step}.jsonl`, the step an `i64` in decimal digits.
fn is_step_log(name: &str) -> bool {
    name.strip_suffix(".jsonl").is_some_and(|stem| {
        !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()) && stem.parse::<i64>().is_ok()
    })
}

/// The listing `ops::listing`'s documented rules give: the folder given, and the slime
/// subfolders that are folders, whole; with the root given, its other subfolders (valid names,
/// those named as verl's log folders are first, then by name, at most `MAX_VERL_FOLDERS`) for
/// step logs only. Regular files with valid names are listed, links and special files with
/// valid names are skipped, subfolders are neither.
fn expected(tree: &Tree) -> Expected {
    let given = tree.given();
    let mut read = vec![(given.to_string(), false)];
    for sub in SLIME_SUBS {
        if sub != given && tree.is_folder(sub) {
            read.push((sub.to_string(), false));
        }
    }
    let mut out = Expected::default();
    if !tree.root_is_parent() {
        let root = tree.folders.get("").into_iter().flatten();
        let names: BTreeSet<&str> = root
            .filter(|e| e.kind == Kind::Dir && valid_name(&e.name))
            .map(|e| e.name.as_str())
            .filter(|n| !SLIME_SUBS.contains(n))
            .collect();
        let mut names: Vec<&str> = names.into_iter().collect();
        let verl_like = |n: &&str| {
            let n = n.to_ascii_lowercase();
            ["rollout", "val", "eval", "test", "gen"]
                .iter()
                .any(|p| n.starts_with(p))
        };
        names.sort_by_key(|n| !verl_like(n));
        names.truncate(MAX_VERL_FOLDERS);
        for sub in names {
            if sub.starts_with('!') {
                out.unread.push(sub.to_string());
            } else {
                read.push((sub.to_string(), true));
            }
        }
    }
    for (sub, step_logs) in read {
        for e in tree.folders.get(&sub).into_iter().flatten() {
            if e.kind == Kind::Dir || !valid_name(&e.name) || (step_logs && !is_step_log(&e.name)) {
                continue;
            }
            let path = if sub.is_empty() {
                e.name.clone()
            } else {
                format!("{sub}/{}", e.name)
            };
            if e.kind == Kind::File {
                out.files.insert((path, e.size));
                out.kept += 1;
            } else {
                out.skipped.push(path);
            }
        }
    }
    out.skipped.sort();
    out
}

/// Whether `got` is the listing of `tree` (see the module doc); `Err` says how it is not.
fn judge(tree: &Tree, got: &Result<Listing, String>) -> Result<(), String> {
    let want = expected(tree);
    let error = if let Err(e) = tree.templates.check() {
        Some(e)
    } else if !tree.folders.contains_key(tree.given()) {
        Some(format!("{SHOWN}: not a folder"))
    } else if want.kept > MAX_RUN_FILES {
        Some(format!("{SHOWN}: more than {MAX_RUN_FILES} files"))
    } else {
        None
    };
    let files: Vec<(String, u64)> = want.files.iter().cloned().collect();
    let listing = match (got, error) {
        (Err(e), Some(w)) if *e == w => return Ok(()),
        (_, Some(w)) => return Err(format!("the rules give the error {w:?}")),
        (Err(e), None) => {
            let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
            let no_dumps = layout_with(&paths, &tree.templates).dumps.is_empty();
            if no_dumps && e.starts_with(&format!("{SHOWN}: no rollout dumps")) {
                return Ok(());
            }
            return Err(format!("failed ({e:?}); the rules list {files:?}"));
        }
        (Ok(l), None) => l,
    };
    if listing.files != files {
        return Err(format!(
            "listed {:?}; the rules list {files:?}",
            listing.files
        ));
    }
    if listing.root_is_parent != tree.root_is_parent() {
        return Err(format!("root_is_parent {}", listing.root_is_parent));
    }
    let notes = &listing.layout.notes;
    let said: Vec<&String> = notes
        .iter()
        .filter(|n| n.contains(" entries skipped: not regular files"))
        .collect();
    let n = want.skipped.len();
    let named = |note: &str| {
        note.starts_with(&format!("{n} entries skipped"))
            && (want.skipped.iter().take(SKIPPED_NAMED)).all(|p| note.contains(&format!("{p:?}")))
    };
    match said[..] {
        [] if n == 0 => {}
        [note] if n > 0 && named(note) => {}
        _ => return Err(format!("skipped {:?}; notes {notes:?}", want.skipped)),
    }
    for sub in &want.unread {
        let note = format!("{sub}: cannot be read (not read)");
        if !notes.contains(&note) {
            return Err(format!("no note {note:?}: {notes:?}"));
        }
    }
    let listed = |path: &str| files.iter().any(|(f, _)| f == path);
    let layout = &listing.layout;
    let dumps = (layout.dumps.iter()).flat_map(|d| std::iter::once(&d.file).chain(&d.train_file));
    let train = layout.train.iter().map(|(_, t)| t);
    match dumps
        .chain(train)
        .chain(&layout.tokenizer)
        .find(|p| !listed(p))
    {
        Some(p) => Err(format!("the layout names {p:?}, not a listed file")),
        None => Ok(()),
    }
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
    if let Err(e) = judge(&tree, &first) {
        panic!("{e}");
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
    /// step logs beside a tokenizer, a tokenizer listed as a link with entries under it.
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
        assert_eq!(seen, 4);
    }

    /// A slime run with train data, a tokenizer, step logs beside other files, an unrelated
    /// folder `secret` and a step-log folder `!x` that cannot be read.
    const RUN: &str = "\0\n\
                       \tdrollout_data\n\tdtrain_data\n\tdtokenizer\n\tdsecret\n\tdval\n\td!x\n\
                       rollout_data\tf0.pt\nrollout_data\tf1.pt\n\
                       train_data\tf0.pt\ntrain_data\tf1.pt\ntokenizer\tftokenizer.json\n\
                       secret\tfid_rsa\nval\tf0.jsonl\nval\tfnotes.txt\n";

    /// The oracle's verdict on the model's listing of `data` changed by `mutate`.
    fn judged(data: &str, mutate: impl FnOnce(&mut Listing)) -> Result<(), String> {
        let tree = parse(data.as_bytes());
        let mut got = list(&tree);
        if let Ok(l) = &mut got {
            mutate(l);
        }
        judge(&tree, &got)
    }

    fn paths(l: &Listing) -> Vec<&str> {
        l.files.iter().map(|(p, _)| p.as_str()).collect()
    }

    #[test]
    fn the_oracle_passes_the_listing_the_rules_give() {
        judged(RUN, |_| {}).unwrap();
        let l = list(&parse(RUN.as_bytes())).unwrap();
        let want = [
            "rollout_data/0.pt",
            "rollout_data/1.pt",
            "tokenizer/tokenizer.json",
            "train_data/0.pt",
            "train_data/1.pt",
            "val/0.jsonl",
        ];
        assert_eq!(paths(&l), want);
        // More step-log folders than are searched: verl's names first, then the rest by name.
        let mut data = String::from("\0\n\tdvalidation\nvalidation\tf0.jsonl\n");
        for i in 0..70 {
            data += &format!("\tdglobal_step_{i}\nglobal_step_{i}\tf{i}.jsonl\n");
        }
        judged(&data, |_| {}).unwrap();
        let l = list(&parse(data.as_bytes())).unwrap();
        assert_eq!(l.files.len(), MAX_VERL_FOLDERS);
        assert_eq!(paths(&l)[MAX_VERL_FOLDERS - 1], "validation/0.jsonl");
    }

    /// A listing that drops a folder's files, lists a folder it may not read or a file that
    /// is not a step log, or gets a size wrong, fails the oracle.
    #[test]
    fn the_oracle_fails_a_listing_that_drops_or_adds_files() {
        for prefix in ["train_data/", "tokenizer/", "val/", "rollout_data/1"] {
            let drop = |l: &mut Listing| l.files.retain(|(p, _)| !p.starts_with(prefix));
            let e = judged(RUN, drop).unwrap_err();
            assert!(e.starts_with("listed"), "{prefix}: {e}");
        }
        for path in ["secret/id_rsa", "val/notes.txt", "!x/0.pt"] {
            let add = |l: &mut Listing| {
                l.files.push((path.into(), 6));
                l.files.sort();
            };
            assert!(judged(RUN, add).is_err(), "{path}");
        }
        assert!(judged(RUN, |l| l.files[0].1 += 1).is_err());
        assert!(judged(RUN, |l| l.files.push(l.files[0].clone())).is_err());
    }

    /// The review's mutant, as a lister: train_data/ and tokenizer/ hidden.
    #[test]
    fn the_oracle_fails_a_listing_that_skips_train_data_and_the_tokenizer() {
        let tree = parse(RUN.as_bytes());
        let got = list_with(&tree, &mut |sub| match sub {
            "train_data" | "tokenizer" => Ok(None),
            _ => tree.dir(sub),
        });
        let e = judge(&tree, &got).unwrap_err();
        assert!(
            e.contains("train_data/0.pt") && e.contains("tokenizer.json"),
            "{e}"
        );
    }

    /// The root lists `tokenizer` as a link, and the tree holds entries under it (the review's
    /// input, a seed): nothing is listed through it, and a listing that does fails.
    #[test]
    fn a_folder_listed_as_a_link_is_not_listed_through() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/regressions/run_listing");
        let seed = std::fs::read_to_string(dir.join("link-to-a-folder-with-entries.txt")).unwrap();
        check_run_listing(seed.as_bytes());
        let l = list(&parse(seed.as_bytes())).unwrap();
        assert_eq!(paths(&l), ["rollout_data/0.pt", "rollout_data/1.pt"]);
        let through = |l: &mut Listing| l.files.push(("tokenizer/id_rsa".into(), 6));
        assert!(judged(&seed, through).is_err());
        // Given its rollout_data/ with siblings, the root is not listed: the lister alone says
        // whether tokenizer/ is a folder. One that ignores what the root lists it as (this
        // model before) lists through the link, and fails.
        let data = seed.replacen('\0', "\x03", 1);
        let tree = parse(data.as_bytes());
        let trusting = list_with(&tree, &mut |sub| Ok(tree.folders.get(sub).cloned()));
        assert!(paths(trusting.as_ref().unwrap()).contains(&"tokenizer/id_rsa"));
        assert!(judge(&tree, &trusting).is_err());
        judge(&tree, &list(&tree)).unwrap();
    }

    /// A wrong note of what was skipped or not read, or a wrong error, fails the oracle.
    #[test]
    fn the_oracle_fails_a_wrong_note_or_error() {
        let planted = "\x01\n\tdrollout_data\n\tltokenizer\nrollout_data\tf0.pt\n\
                       rollout_data\tf1.pt\nrollout_data\tpfifo.pt\n";
        judged(planted, |_| {}).unwrap();
        let unsaid = |l: &mut Listing| l.layout.notes.retain(|n| !n.contains("skipped"));
        assert!(judged(planted, unsaid).is_err());
        let miscounted = |l: &mut Listing| {
            for n in &mut l.layout.notes {
                *n = n.replacen("2 entries", "1 entries", 1);
            }
        };
        assert!(judged(planted, miscounted).is_err());
        let unnamed = |l: &mut Listing| {
            for n in &mut l.layout.notes {
                *n = n.replacen("\"tokenizer\"", "\"x\"", 1);
            }
        };
        assert!(judged(planted, unnamed).is_err());
        let read = |l: &mut Listing| l.layout.notes.retain(|n| !n.contains("cannot be read"));
        assert!(judged(RUN, read).is_err());
        // A run that lists, said to have no dumps; a run with no folder given, listed.
        let tree = parse(RUN.as_bytes());
        let no_dumps = Err(format!("{SHOWN}: no rollout dumps (expected …)"));
        assert!(judge(&tree, &no_dumps).is_err());
        let tree = parse(b"\x03\n\tdtrain_data\ntrain_data\tf0.pt\n");
        judge(&tree, &list(&tree)).unwrap();
        assert!(judge(&tree, &list(&parse(RUN.as_bytes()))).is_err());
    }
}
