//! Unit tests of `packages`.

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn package_names() {
    let cases = [
        ("axios", Some(("axios", ""))),
        ("axios/lib/x.js", Some(("axios", "lib/x.js"))),
        ("@scope/pkg", Some(("@scope/pkg", ""))),
        ("@scope/pkg/a/b", Some(("@scope/pkg", "a/b"))),
        ("@scope", None),
        (".hidden", None),
    ];
    for (spec, want) in cases {
        assert_eq!(split_package(spec), want, "{spec}");
    }
}

#[test]
fn exports_main_browser_and_esm() {
    let tmp = tempfile::tempdir().unwrap();
    let base = real(tmp.path());
    let plugins = base.join("scripts");
    let nm = plugins.join("node_modules");
    // exports with conditions in file order, subpaths and patterns.
    write(
        &nm,
        "cond/package.json",
        r#"{"exports":{".":{"import":"./esm.mjs","node":"./node.js","require":"./req.js","default":"./def.js"},"./sub":"./lib/sub.js","./feat/*":"./lib/feat/*.js","./package.json":"./package.json"}}"#,
    );
    for f in [
        "esm.mjs",
        "node.js",
        "req.js",
        "def.js",
        "lib/sub.js",
        "lib/feat/a.js",
    ] {
        write(&nm, &format!("cond/{f}"), "");
    }
    // main + browser mappings (axios style) + an ESM-only package + a type:module package
    // with a nested commonjs folder (cheerio style).
    write(
        &nm,
        "mapped/package.json",
        r#"{"main":"./dist/node.cjs","browser":{"./dist/node.cjs":"./dist/browser.cjs","./lib/http.js":false,"stream":false}}"#,
    );
    write(&nm, "mapped/dist/node.cjs", "");
    write(&nm, "mapped/dist/browser.cjs", "");
    write(&nm, "mapped/lib/http.js", "");
    write(&nm, "mapped/lib/index.js", "");
    write(
        &nm,
        "esm/package.json",
        r#"{"type":"module","exports":{"import":"./index.js"}}"#,
    );
    write(&nm, "esm/index.js", "");
    write(
        &nm,
        "esmmain/package.json",
        r#"{"type":"module","main":"index.js"}"#,
    );
    write(&nm, "esmmain/index.js", "");
    write(
        &nm,
        "@s/mixed/package.json",
        r#"{"type":"module","exports":{"require":"./cjs/index.js","import":"./esm/index.js"}}"#,
    );
    write(&nm, "@s/mixed/cjs/package.json", r#"{"type":"commonjs"}"#);
    write(&nm, "@s/mixed/cjs/index.js", "");
    write(&nm, "plain/index.js", "");
    write(&nm, "plain/data.json", "{}");
    // A package in the node_modules of the plugins folder's parent.
    write(&base, "node_modules/above/index.js", "");
    let mut r = Resolver::new(&plugins);
    let ok = |r: &mut Resolver, from: &Path, spec: &str| {
        r.resolve(from, spec).map(|x| (x.path, x.format))
    };
    let cjs = |p: PathBuf| Ok((p, Format::Cjs));
    assert_eq!(ok(&mut r, &plugins, "cond"), cjs(nm.join("cond/node.js")));
    assert_eq!(
        ok(&mut r, &plugins, "cond/sub"),
        cjs(nm.join("cond/lib/sub.js"))
    );
    assert_eq!(
        ok(&mut r, &plugins, "cond/feat/a"),
        cjs(nm.join("cond/lib/feat/a.js"))
    );
    assert_eq!(
        ok(&mut r, &plugins, "cond/package.json").unwrap().1,
        Format::Json
    );
    let e = r.resolve(&plugins, "cond/lib/sub.js").unwrap_err();
    assert_eq!(e.code(), "ERR_PACKAGE_PATH_NOT_EXPORTED", "{e}");
    assert_eq!(
        ok(&mut r, &plugins, "mapped"),
        cjs(nm.join("mapped/dist/browser.cjs"))
    );
    assert_eq!(
        ok(&mut r, &plugins, "mapped/lib/http").unwrap().1,
        Format::Empty
    );
    assert_eq!(
        ok(&mut r, &nm.join("mapped/lib"), "./http.js").unwrap().1,
        Format::Empty
    );
    assert_eq!(
        ok(&mut r, &nm.join("mapped/lib"), "stream").unwrap().1,
        Format::Empty
    );
    let e = r.resolve(&plugins, "esm").unwrap_err();
    assert_eq!(e.code(), "ERR_REQUIRE_ESM");
    assert!(e.to_string().contains("only the conditions import"), "{e}");
    let e = r.resolve(&plugins, "esmmain").unwrap_err();
    assert!(e.to_string().contains("\"type\": \"module\""), "{e}");
    assert_eq!(
        ok(&mut r, &plugins, "@s/mixed"),
        cjs(nm.join("@s/mixed/cjs/index.js"))
    );
    assert_eq!(
        ok(&mut r, &plugins, "plain"),
        cjs(nm.join("plain/index.js"))
    );
    assert_eq!(ok(&mut r, &plugins, "plain/data").unwrap().1, Format::Json);
    assert_eq!(
        ok(&mut r, &nm.join("plain"), "above"),
        cjs(base.join("node_modules/above/index.js"))
    );
    let e = r.resolve(&plugins, "missing").unwrap_err();
    assert_eq!(e.code(), "MODULE_NOT_FOUND");
    assert!(e.to_string().contains("npm install missing"), "{e}");
}

#[test]
fn confinement() {
    let tmp = tempfile::tempdir().unwrap();
    let base = real(tmp.path());
    let plugins = base.join("scripts");
    write(&plugins, "lib/util.js", "");
    write(&plugins, "data.json", "{}");
    write(&plugins, "dir/package.json", r#"{"main":"main.js"}"#);
    write(&plugins, "dir/main.js", "");
    write(&base, "outside/secret.js", "");
    write(&base, "outside/pkg/index.js", "");
    std::os::unix::fs::symlink(base.join("outside/secret.js"), plugins.join("link.js")).unwrap();
    std::fs::create_dir_all(plugins.join("node_modules")).unwrap();
    std::os::unix::fs::symlink(
        base.join("outside/pkg"),
        plugins.join("node_modules/linked"),
    )
    .unwrap();
    let mut r = Resolver::new(&plugins);
    assert_eq!(
        r.resolve(&plugins, "./lib/util").unwrap().path,
        plugins.join("lib/util.js")
    );
    assert_eq!(r.resolve(&plugins, "./data").unwrap().format, Format::Json);
    assert_eq!(
        r.resolve(&plugins, "./dir").unwrap().path,
        plugins.join("dir/main.js")
    );
    for bad in ["../outside/secret.js", "./link.js", "/etc/passwd", "linked"] {
        let e = r.resolve(&plugins, bad).unwrap_err();
        assert_eq!(e.code(), "ERR_ISOBOT_MODULE_OUTSIDE", "{bad}: {e}");
        assert!(
            e.to_string().contains("outside the plugins folder"),
            "{bad}: {e}"
        );
    }
    let e = r.resolve(&plugins, "./nope").unwrap_err();
    assert_eq!(e.code(), "MODULE_NOT_FOUND", "{e}");
}

#[test]
fn middleware_paths_that_reach_the_plugins_folder_are_the_sdk() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = real(tmp.path()).join("scripts");
    // A real file named middleware.js on disk is still the SDK when it is the folder's.
    write(&plugins, "middleware.js", "module.exports = 'the file';");
    write(&plugins, "lib/deep/helper.js", "");
    write(
        &plugins,
        "lib/middleware.js",
        "module.exports = 'a helper of its own';",
    );
    let mut r = Resolver::new(&plugins);
    let lib = plugins.join("lib");
    let deep = lib.join("deep");
    let cases: &[(&Path, &str, Option<Format>)] = &[
        (&lib, "../middleware.js", Some(Format::Sdk)),
        (&lib, "../middleware", Some(Format::Sdk)),
        (&deep, "../../middleware.js", Some(Format::Sdk)),
        (&plugins, "./lib/../middleware.js", Some(Format::Sdk)),
        // lib/middleware.js is not the SDK location: it is an ordinary module.
        (&plugins, "./lib/middleware.js", Some(Format::Cjs)),
        (&deep, "../middleware.js", Some(Format::Cjs)),
        // Above the plugins folder: not the SDK, and outside.
        (&plugins, "../middleware.js", None),
    ];
    for (from, spec, want) in cases {
        let got = r.resolve(from, spec).ok().map(|x| x.format);
        assert_eq!(got, *want, "{spec} from {}", from.display());
    }
}
