//! Blender's own BVH importer, headless, where Blender is installed (CI installs Debian's
//! `blender`; elsewhere the check is skipped with a note).

use std::path::Path;
use std::process::Command;

/// Imports the BVH with Blender's own importer (headless) and checks the armature's bone count and
/// the action's frame range. Debian's Blender 3.4 importer opens files with mode 'rU', which
/// Python 3.11 removed; the script maps it to 'r' first.
pub fn blender_import(path: &Path, bones: usize, frames: usize) {
    let Ok(out) = Command::new("blender").arg("--version").output() else {
        eprintln!("skipping the Blender import: `blender` is not installed (Debian package `blender`)");
        return;
    };
    if !out.status.success() {
        eprintln!("skipping the Blender import: `blender --version` failed");
        return;
    }
    let expr = format!(
        "import builtins, bpy, sys\n\
         o = builtins.open\n\
         builtins.open = lambda f, m='r', *a, **k: o(f, m.replace('U', ''), *a, **k)\n\
         r = bpy.ops.import_anim.bvh(filepath={:?})\n\
         ob = bpy.context.object\n\
         ok = r == {{'FINISHED'}} and ob.type == 'ARMATURE' and len(ob.data.bones) == {bones} \\\n\
              and tuple(ob.animation_data.action.frame_range) == (1.0, {frames}.0)\n\
         print('blender import:', r, ob.type, len(ob.data.bones), tuple(ob.animation_data.action.frame_range))\n\
         sys.exit(0 if ok else 1)",
        path.display().to_string()
    );
    let status = Command::new("blender").args(["-b", "--factory-startup", "--python-exit-code", "1", "--python-expr", &expr]).status();
    assert!(status.is_ok_and(|s| s.success()), "Blender failed to import {} ({bones} bones, {frames} frames expected)", path.display());
}
