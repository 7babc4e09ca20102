//! The run listing: which files of a folder make a run. One rule for the CLI, the host that
//! serves a run, Python and Ray (which hand over the directory entries of their file system).
//!
//! A run is one folder (slime's `--dump-details` folder, or its `rollout_data/`, whose sibling
//! `train_data/` and `tokenizer/` are then used too when `siblings`) or a list of dump files.
//! Listed: the regular files directly in the folder and in its `rollout_data/`, `train_data/`
//! and `tokenizer/`, with non-empty UTF-8 names not starting with `.`, at most
//! [`MAX_RUN_FILES`](trace::run::MAX_RUN_FILES). Nothing is followed or listed through a
//! link: a symlinked file or subfolder (`tokenizer/ -> ~/.ssh`) is skipped, and so are FIFOs,
//! sockets and devices; the run's notes say how many and name the first few ([`SKIPPED_NAMED`]).
//! Loose `--save-debug-*` templates are refused first (`Templates::check`). Which listed file is which is `trace::run::layout_with`, under slime's
//! `--save-debug-*` templates when given; with templates and no input, the run is the
//! templates' folders, listed from the nearest folder holding both ([`list_templated`]).
//! A folder's other subfolders are searched for verl's `{step}.jsonl` step logs only
//! (`verl_listing`: training and validation folders side by side).

use std::path::{Path, PathBuf};

use trace::run::{layout_with, RunLayout, Templates, MAX_RUN_FILES};

pub use crate::verl_listing::MAX_VERL_FOLDERS;

/// What a directory entry is, as its file system says without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A symlink, FIFO, socket, device, or anything else: never listed.
    Other,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    pub size: u64,
}

/// A run's files, relative to its root, and their size (sorted), and the layout of them.
#[derive(Debug)]
pub struct Listing {
    /// Whether the root is the parent of the folder given (a `rollout_data/` with siblings).
    pub root_is_parent: bool,
    pub files: Vec<(String, u64)>,
    pub layout: RunLayout,
}

/// How many skipped entries a run's note names (the rest are counted).
pub const SKIPPED_NAMED: usize = 5;

/// Entries of a run's folders that are neither regular files nor folders: never read, but said.
#[derive(Debug, Default)]
pub(crate) struct Skipped {
    count: usize,
    /// The first names in sorted order (whatever order the folder lists them in).
    first: Vec<String>,
}

impl Skipped {
    fn add(&mut self, rel: String) {
        self.count += 1;
        let at = self.first.partition_point(|n| *n < rel);
        if at < SKIPPED_NAMED {
            self.first.insert(at, rel);
            self.first.truncate(SKIPPED_NAMED);
        }
    }

    /// The run's note, if anything was skipped. Names are quoted with escapes (`"a\u{1b}b"`):
    /// they are data, whatever prints them.
    fn note(self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let names: Vec<String> = self.first.iter().map(|n| format!("{n:?}")).collect();
        let more = if self.count > self.first.len() {
            ", …"
        } else {
            ""
        };
        Some(format!(
            "{} entries skipped: not regular files (a symbolic link, FIFO, socket or device \
             is never read): {}{more}",
            self.count,
            names.join(", ")
        ))
    }
}

/// The entries of the folder `sub` under a run's root, or `None` when it is not a folder.
pub type Lister<'a> = dyn FnMut(&str) -> Result<Option<Vec<Entry>>, String> + 'a;

/// Lists the run folder named `folder_name` (its last path component; `shown` names it in
/// messages) through `dir(sub)`: the entries of the folder `sub` relative to the run's root
/// ("" is the root itself), or `None` when that is not a folder (a link to one included).
/// When the root is the folder given, a subfolder is read only if the root's entries list it
/// as a folder ([`Kind::Dir`]), whatever `dir` says of it.
pub fn list_folder(
    folder_name: &str,
    shown: &str,
    siblings: bool,
    templates: &Templates,
    dir: &mut Lister,
) -> Result<Listing, String> {
    templates.check()?;
    let root_is_parent = root_is_parent(folder_name, siblings);
    let (first, mut rest): (&str, Vec<&str>) = if root_is_parent {
        ("rollout_data", vec!["train_data", "tokenizer"])
    } else {
        ("", vec!["rollout_data", "train_data", "tokenizer"])
    };
    let mut files = Vec::new();
    let mut skipped = Skipped::default();
    let (mut verl_dirs, mut verl_note) = (Vec::new(), None);
    match dir(first)? {
        Some(entries) => {
            if !root_is_parent {
                (verl_dirs, verl_note) = crate::verl_listing::subfolders(&entries, &rest);
                // Listed by the root as a link (or not at all): not read through.
                rest.retain(|s| entries.iter().any(|e| e.kind == Kind::Dir && e.name == *s));
            }
            keep(shown, first, entries, &mut files, &mut skipped)?
        }
        None => return Err(format!("{shown}: not a folder")),
    }
    // A subfolder that cannot be read is a note: the rest of the run is still read.
    let mut unread = Vec::new();
    for sub in rest {
        match dir(sub) {
            Ok(Some(entries)) => keep(shown, sub, entries, &mut files, &mut skipped)?,
            Ok(None) => {}
            Err(e) => unread.push(format!("{e} (not read)")),
        }
    }
    for sub in &verl_dirs {
        match dir(sub) {
            Ok(Some(entries)) => {
                let entries = crate::verl_listing::step_logs(sub, entries);
                keep(shown, sub, entries, &mut files, &mut skipped)?;
            }
            Ok(None) => {}
            Err(e) => unread.push(format!("{e} (not read)")),
        }
    }
    let (files, mut layout) =
        finish(files, shown, templates, skipped).map_err(|e| match &verl_note {
            Some(n) => format!("{e} ({n})"),
            None => e,
        })?;
    layout.notes.extend(verl_note);
    layout.notes.extend(unread);
    Ok(Listing {
        root_is_parent,
        files,
        layout,
    })
}

/// Whether the run's root is the parent of the folder given: a `rollout_data/` whose
/// siblings are used too.
pub fn root_is_parent(folder_name: &str, siblings: bool) -> bool {
    siblings && folder_name == "rollout_data"
}

/// Dump files given one by one, each with what its file system says it is (following links:
/// the user named them). Anything but a regular file is refused.
pub fn list_given(
    given: Vec<(String, Kind, u64)>,
    templates: &Templates,
) -> Result<Listing, String> {
    templates.check()?;
    let shown = given.first().map(|(p, _, _)| p.clone()).unwrap_or_default();
    let mut files = Vec::with_capacity(given.len());
    for (path, kind, size) in given {
        if kind != Kind::File {
            return Err(format!(
                "{path}: not a file (give one run folder, two run folders to compare, or dump files)"
            ));
        }
        files.push((path, size));
    }
    finish(files, &shown, templates, Skipped::default()).map(|(files, layout)| Listing {
        root_is_parent: false,
        files,
        layout,
    })
}

/// The regular files of `entries` (of the folder `sub`) into `out`; links and special files
/// into `skipped`.
fn keep(
    shown: &str,
    sub: &str,
    entries: Vec<Entry>,
    out: &mut Vec<(String, u64)>,
    skipped: &mut Skipped,
) -> Result<(), String> {
    for e in entries {
        // An empty name (a lister handing over a path's last part of `dir/`) names no file.
        if e.kind == Kind::Dir
            || e.name.is_empty()
            || e.name.starts_with('.')
            || e.name.contains('/')
        {
            continue;
        }
        let rel = if sub.is_empty() {
            e.name
        } else {
            format!("{sub}/{}", e.name)
        };
        if e.kind == Kind::Other {
            skipped.add(rel);
            continue;
        }
        if out.len() >= MAX_RUN_FILES {
            return Err(format!("{shown}: more than {MAX_RUN_FILES} files"));
        }
        out.push((rel, e.size));
    }
    Ok(())
}

pub(crate) fn finish(
    mut files: Vec<(String, u64)>,
    shown: &str,
    templates: &Templates,
    skipped: Skipped,
) -> Result<(Vec<(String, u64)>, RunLayout), String> {
    files.sort();
    files.dedup();
    let paths = files.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>();
    let mut layout = layout_with(&paths, templates);
    layout.notes.extend(skipped.note());
    if layout.dumps.is_empty() {
        return Err(format!(
            "{shown}: no rollout dumps (expected rollout_data/{{id}}.pt as slime's --dump-details \
             writes, or verl's {{step}}.jsonl in this folder or its subfolders)"
        ));
    }
    Ok((files, layout))
}

/// A run on this machine: its root and its listing.
#[derive(Debug)]
pub struct LocalRun {
    /// The folder the listing's paths are relative to (empty for dump files given).
    pub root: PathBuf,
    pub listing: Listing,
}

/// The run in `inputs` on this machine: one folder, or dump files (see the module doc).
pub fn list_local(inputs: &[PathBuf], siblings: bool) -> Result<LocalRun, String> {
    list_local_with(inputs, siblings, &Templates::default())
}

/// [`list_local`] under slime's templates; with no `inputs`, the templates' folders
/// ([`list_templated`]).
pub fn list_local_with(
    inputs: &[PathBuf],
    siblings: bool,
    templates: &Templates,
) -> Result<LocalRun, String> {
    if inputs.is_empty() {
        return list_templated(templates);
    }
    if let [folder] = inputs {
        if folder.is_dir() {
            let name = folder
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let shown = folder.display().to_string();
            let up = root_is_parent(&name, siblings);
            let root = if up {
                folder.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                folder.clone()
            };
            let given = if up { "rollout_data" } else { "" };
            let listing = list_folder(&name, &shown, siblings, templates, &mut |sub| {
                if sub == given {
                    // The folder the user named (a link to it is theirs to give).
                    return entries_of(folder).map(Some);
                }
                let d = root.join(sub);
                match std::fs::symlink_metadata(&d) {
                    Ok(m) if m.file_type().is_dir() => entries_of(&d).map(Some),
                    _ => Ok(None),
                }
            })?;
            return Ok(crate::verl_listing::rebase_lone(
                LocalRun { root, listing },
                &name,
                &shown,
                templates,
            ));
        }
    }
    let mut given = Vec::with_capacity(inputs.len());
    for f in inputs {
        let meta = std::fs::metadata(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let kind = if meta.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        given.push((f.to_string_lossy().into_owned(), kind, meta.len()));
    }
    Ok(LocalRun {
        root: PathBuf::new(),
        listing: list_given(given, templates)?,
    })
}

/// The files slime's templates name (`--save-debug-rollout-data DIR/rollout_{rollout_id}.pt
/// --save-debug-train-data …`): the regular files of the templates' folders (and of a
/// `tokenizer/` beside them), relative to the nearest folder holding both.
pub fn list_templated(templates: &Templates) -> Result<LocalRun, String> {
    templates.check()?;
    let folders: Vec<PathBuf> = [&templates.rollout, &templates.train]
        .into_iter()
        .flatten()
        .map(|t| {
            Path::new(t)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        })
        .collect();
    if folders.is_empty() {
        return Err("no run: give a run folder, dump files, or --save-debug-rollout-data".into());
    }
    let root = common_folder(&folders);
    let shown = root.display().to_string();
    let mut subs: Vec<String> = folders
        .iter()
        .map(|f| {
            f.strip_prefix(&root)
                .unwrap_or(f)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    subs.push("tokenizer".into());
    subs.dedup();
    let mut files = Vec::new();
    let mut skipped = Skipped::default();
    for (i, sub) in subs.iter().enumerate() {
        let d = match (sub.is_empty(), root.as_os_str().is_empty()) {
            (true, true) => PathBuf::from("."),
            (true, false) => root.clone(),
            _ => root.join(sub),
        };
        let named = i < folders.len();
        // The templates' folders are the user's to give (a link to one included); the
        // tokenizer beside them is used only when it is a folder itself.
        let listed = match std::fs::symlink_metadata(&d) {
            Ok(m) if m.file_type().is_dir() => Some(entries_of(&d)?),
            _ if named => Some(entries_of(&d)?),
            _ => None,
        };
        if let Some(entries) = listed {
            keep(&shown, sub, entries, &mut files, &mut skipped)?;
        }
    }
    let (files, layout) = finish(files, &shown, templates, skipped)?;
    Ok(LocalRun {
        root,
        listing: Listing {
            root_is_parent: false,
            files,
            layout,
        },
    })
}

/// The deepest folder that holds every one of `dirs`.
fn common_folder(dirs: &[PathBuf]) -> PathBuf {
    let mut out = dirs.first().cloned().unwrap_or_default();
    for d in dirs {
        while !d.starts_with(&out) {
            if !out.pop() {
                return PathBuf::new();
            }
        }
    }
    out
}

/// The entries of the folder `d`, each as its own metadata says (links not followed).
fn entries_of(d: &Path) -> Result<Vec<Entry>, String> {
    let read = std::fs::read_dir(d).map_err(|e| format!("{}: {e}", d.display()))?;
    let mut out = Vec::new();
    for e in read {
        let e = e.map_err(|e| format!("{}: {e}", d.display()))?;
        let Ok(name) = e.file_name().into_string() else {
            continue; // not UTF-8: a run's files are named by slime
        };
        // Gone since the folder was read (a run being written): not listed.
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        let t = meta.file_type();
        let kind = if t.is_file() {
            Kind::File
        } else if t.is_dir() {
            Kind::Dir
        } else {
            Kind::Other
        };
        out.push(Entry {
            name,
            kind,
            size: meta.len(),
        });
    }
    Ok(out)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A run folder with a planted link to a folder outside it, a linked file, a FIFO, a dot
    /// file and one real dump in each place.
    #[test]
    fn links_fifos_and_dot_files_are_neither_listed_nor_followed() {
        let base = std::env::temp_dir().join(format!("ops-listing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let run = base.join("run");
        let secret = base.join("secret");
        for d in [&run.join("rollout_data"), &run.join("train_data"), &secret] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(secret.join("id_rsa"), b"key").unwrap();
        std::fs::write(secret.join("0.pt"), b"x").unwrap();
        std::fs::write(run.join("rollout_data/0.pt"), b"dump").unwrap();
        std::fs::write(run.join("rollout_data/.hidden.pt"), b"x").unwrap();
        std::fs::write(run.join("train_data/0.pt"), b"train").unwrap();
        symlink(&secret, run.join("tokenizer")).unwrap();
        symlink(secret.join("0.pt"), run.join("rollout_data/1.pt")).unwrap();
        symlink(&secret, run.join("rollout_data/more")).unwrap();
        let fifo = run.join("rollout_data/2.pt");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

        let want = vec![
            ("rollout_data/0.pt".to_string(), 4),
            ("train_data/0.pt".to_string(), 5),
        ];
        let got = list_local(std::slice::from_ref(&run), true).unwrap();
        assert_eq!(got.listing.files, want);
        assert_eq!(got.root, run);
        // Said, not silently dropped: how many, and which (quoted).
        let note = "4 entries skipped: not regular files (a symbolic link, FIFO, socket or \
                    device is never read): \"rollout_data/1.pt\", \"rollout_data/2.pt\", \
                    \"rollout_data/more\", \"tokenizer\"";
        let mut notes = got.listing.layout.notes.clone();
        notes.sort();
        assert!(notes.iter().any(|n| n == note), "{notes:?}");
        // Given as its rollout_data/ folder: the same files, from the parent.
        let got = list_local(&[run.join("rollout_data")], true).unwrap();
        assert!(got.listing.root_is_parent);
        assert_eq!(got.listing.files, want);
        // A symlinked train_data/ is not used either.
        std::fs::remove_dir_all(run.join("train_data")).unwrap();
        std::fs::create_dir(base.join("elsewhere")).unwrap();
        std::fs::write(base.join("elsewhere/0.pt"), b"t").unwrap();
        symlink(base.join("elsewhere"), run.join("train_data")).unwrap();
        let got = list_local(std::slice::from_ref(&run), true).unwrap();
        assert_eq!(got.listing.files, want[..1]);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn the_skipped_note_counts_all_names_the_first_few_and_escapes_them() {
        let mut s = Skipped::default();
        for n in ["f", "e", "d\u{1b}[31m", "c", "b", "a", "g"] {
            s.add(n.into());
        }
        assert_eq!(
            s.note().unwrap(),
            "7 entries skipped: not regular files (a symbolic link, FIFO, socket or device is \
             never read): \"a\", \"b\", \"c\", \"d\\u{1b}[31m\", \"e\", …"
        );
        assert_eq!(Skipped::default().note(), None);
    }

    #[test]
    fn loose_templates_are_refused_before_listing() {
        let t = Templates {
            rollout: Some("d/rollout.pt".into()),
            train: None,
        };
        let e = list_templated(&t).unwrap_err();
        assert!(e.starts_with("--save-debug-rollout-data"), "{e}");
        let e = list_given(vec![("x/1.pt".into(), Kind::File, 1)], &t).unwrap_err();
        assert!(e.starts_with("--save-debug-rollout-data"), "{e}");
    }

    fn entry(name: &str, kind: Kind) -> Entry {
        let size = if kind == Kind::File { 1 } else { 0 };
        let name = name.into();
        Entry { name, kind, size }
    }

    fn file(name: &str) -> Entry {
        entry(name, Kind::File)
    }

    fn dir(name: &str) -> Entry {
        entry(name, Kind::Dir)
    }

    /// A lister that says a subfolder is a folder when the root lists it as a link (or not at
    /// all): it is not read through, and the link is a note.
    #[test]
    fn a_subfolder_the_root_does_not_list_as_a_folder_is_not_read() {
        let got = list_folder("run", "run", true, &Templates::default(), &mut |sub| {
            Ok(Some(match sub {
                "" => vec![dir("rollout_data"), entry("tokenizer", Kind::Other)],
                "rollout_data" => vec![file("0.pt"), file("1.pt")],
                _ => vec![file("id_rsa"), file("0.pt")],
            }))
        })
        .unwrap();
        let names: Vec<&str> = got.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["rollout_data/0.pt", "rollout_data/1.pt"]);
        assert!(
            got.layout
                .notes
                .iter()
                .any(|n| n.starts_with("1 entries skipped") && n.ends_with("\"tokenizer\"")),
            "{:?}",
            got.layout.notes
        );
    }

    #[test]
    fn a_subfolder_that_cannot_be_read_is_a_note_and_the_rest_is_listed() {
        let got = list_folder(
            "run",
            "run",
            true,
            &Templates::default(),
            &mut |sub| match sub {
                "" => Ok(Some(vec![
                    dir("rollout_data"),
                    dir("train_data"),
                    dir("val"),
                ])),
                "rollout_data" => Ok(Some(vec![file("0.pt"), file("1.pt")])),
                "val" => Ok(Some(vec![file("0.jsonl")])),
                "tokenizer" => Ok(None),
                other => Err(format!("run/{other}: Permission denied (os error 13)")),
            },
        )
        .unwrap();
        let names: Vec<&str> = got.files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            ["rollout_data/0.pt", "rollout_data/1.pt", "val/0.jsonl"]
        );
        assert!(
            got.layout
                .notes
                .iter()
                .any(|n| n == "run/train_data: Permission denied (os error 13) (not read)"),
            "{:?}",
            got.layout.notes
        );
    }

    #[test]
    fn the_file_cap_is_one_constant() {
        let entries = (0..=MAX_RUN_FILES)
            .map(|i| Entry {
                name: format!("{i}.pt"),
                kind: Kind::File,
                size: 1,
            })
            .collect::<Vec<_>>();
        let mut entries = Some(entries);
        let e = list_folder("run", "run", true, &Templates::default(), &mut |sub| {
            Ok(if sub.is_empty() { entries.take() } else { None })
        })
        .unwrap_err();
        assert_eq!(e, format!("run: more than {MAX_RUN_FILES} files"));
    }
}
