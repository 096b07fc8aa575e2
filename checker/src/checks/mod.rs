//! The checks, one module per phase of a run: the Dockerfile, the context, the build, the
//! image's metadata, its files, the running container, the rebuild. Each module holds its
//! kinds' verdicts (pure functions, tested without an engine) and the phase that gathers
//! what they read. `Kind::needs` sends each kind to its phase in one exhaustive match, and
//! each phase matches its own kinds exhaustively: a new kind does not compile until every
//! place that must know it does.

pub mod build;
pub mod container;
pub mod context;
pub mod dockerfile;
pub mod files;
pub mod image;
pub mod rebuild;

use std::time::Duration;

use crate::manifest::Kind;

/// The phase that evaluates a check, with the check's parameters.
#[derive(Debug, Clone, Copy)]
pub enum Needs<'a> {
    /// The Dockerfile's text alone.
    Dockerfile(dockerfile::Check),
    /// The staged build context.
    Context { exclude: &'a [String] },
    /// The build.
    Build,
    /// The image's metadata.
    Image(image::Check<'a>),
    /// The final image's files, from a created container.
    Files(files::Check<'a>),
    /// A running container.
    Container(container::Check<'a>),
    /// A rebuild after a change to the context.
    Rebuild(rebuild::Check<'a>),
}

impl Kind {
    pub fn needs(&self) -> Needs<'_> {
        match self {
            Kind::BaseImagePinned {} => Needs::Dockerfile(dockerfile::Check::BaseImagePinned),
            Kind::Workdir {} => Needs::Dockerfile(dockerfile::Check::Workdir),
            Kind::CopyNotAdd {} => Needs::Dockerfile(dockerfile::Check::CopyNotAdd),
            Kind::MinStages { min } => Needs::Dockerfile(dockerfile::Check::MinStages(*min)),
            Kind::CacheMountReads {} => Needs::Dockerfile(dockerfile::Check::CacheMountReads),
            Kind::Context { exclude } => Needs::Context { exclude },
            Kind::Build {} => Needs::Build,
            Kind::ImageSize {} => Needs::Image(image::Check::Size),
            Kind::UserNotRoot {} => Needs::Image(image::Check::UserNotRoot),
            Kind::Exposes { port } => Needs::Image(image::Check::Exposes(port)),
            Kind::ExecEntrypoint {} => Needs::Image(image::Check::ExecEntrypoint),
            Kind::StaticBinary {} => Needs::Files(files::Check::StaticBinary),
            Kind::FilesAbsent { patterns } => Needs::Files(files::Check::Absent(patterns)),
            Kind::Http { port, path, timeout_secs } => Needs::Container(container::Check::Http {
                port: *port,
                path,
                timeout: Duration::from_secs(*timeout_secs),
            }),
            Kind::ProcessUid {} => Needs::Container(container::Check::ProcessUid),
            Kind::Stop { within_secs } => Needs::Container(container::Check::Stop(Duration::from_secs(*within_secs))),
            Kind::Rebuild { change, overlay, may_compile } => {
                Needs::Rebuild(rebuild::Check { change: change.as_deref(), overlay: overlay.as_deref(), may_compile })
            }
        }
    }

    /// Whether the check reads only the Dockerfile and the context, and needs no build.
    pub fn is_static(&self) -> bool {
        matches!(self.needs(), Needs::Dockerfile(_) | Needs::Context { .. })
    }
}

/// A step's checks sorted by phase, each with its id, in the manifest's order.
#[derive(Default)]
pub struct Phases<'a> {
    pub dockerfile: Vec<(&'a str, dockerfile::Check)>,
    pub context: Vec<(&'a str, &'a [String])>,
    pub build: Vec<&'a str>,
    pub image: Vec<(&'a str, image::Check<'a>)>,
    pub files: Vec<(&'a str, files::Check<'a>)>,
    pub container: Vec<(&'a str, container::Check<'a>)>,
    pub rebuild: Vec<(&'a str, rebuild::Check<'a>)>,
}

impl<'a> Phases<'a> {
    pub fn of(checks: &[(&'a str, &'a crate::manifest::Check)]) -> Self {
        let mut p = Phases::default();
        for &(id, check) in checks {
            match check.kind.needs() {
                Needs::Dockerfile(c) => p.dockerfile.push((id, c)),
                Needs::Context { exclude } => p.context.push((id, exclude)),
                Needs::Build => p.build.push(id),
                Needs::Image(c) => p.image.push((id, c)),
                Needs::Files(c) => p.files.push((id, c)),
                Needs::Container(c) => p.container.push((id, c)),
                Needs::Rebuild(c) => p.rebuild.push((id, c)),
            }
        }
        p
    }

    /// The ids of every check that needs an image: what a failed build blocks.
    pub fn need_image(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.image
            .iter()
            .map(|(id, _)| *id)
            .chain(self.files.iter().map(|(id, _)| *id))
            .chain(self.container.iter().map(|(id, _)| *id))
            .chain(self.rebuild.iter().map(|(id, _)| *id))
    }
}
