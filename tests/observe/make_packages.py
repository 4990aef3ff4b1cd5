#!/usr/bin/python3
"""Builds the observe world's packages into STATE/docroot (run by world.sh start).

  make_packages.py STATE

npm: a tiny local package packed with `npm pack`, its package document (the registry's JSON:
versions, dist.tarball, dist.shasum, dist.integrity) at /tiny-pkg and the tarball at
/tiny-pkg/-/tiny-pkg-1.0.0.tgz of registry.example.test. pip: a tiny wheel (a zip with the
dist-info files PEP 427 requires, built here with zipfile) and PEP 503 pages: /simple/ and
/simple/tiny-pkg/ linking to /packages/... with its sha256 of pypi.example.test.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

STATE = sys.argv[1]
NAME, VERSION = "tiny-pkg", "1.0.0"
REGISTRY = "https://registry.example.test"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npm_package(docroot):
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, NAME)
        write(os.path.join(source, "package.json"),
              json.dumps({"name": NAME, "version": VERSION, "main": "index.js", "license": "MIT"}))
        write(os.path.join(source, "index.js"), "module.exports = 'hello from tiny-pkg';\n")
        packed = subprocess.run(["npm", "pack", "--silent", "--pack-destination", work], cwd=source,
                                check=True, capture_output=True, text=True,
                                env=dict(os.environ, npm_config_update_notifier="false"))
        tarball = open(os.path.join(work, packed.stdout.strip().splitlines()[-1]), "rb").read()
    file_name = f"{NAME}-{VERSION}.tgz"
    write(os.path.join(docroot, NAME, "-", file_name), tarball)
    document = {
        "name": NAME,
        "dist-tags": {"latest": VERSION},
        "versions": {VERSION: {
            "name": NAME, "version": VERSION, "main": "index.js", "license": "MIT",
            "dist": {
                "tarball": f"{REGISTRY}/{NAME}/-/{file_name}",
                "shasum": hashlib.sha1(tarball).hexdigest(),
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode(),
            },
        }},
    }
    write(os.path.join(docroot, NAME, "index.json"), json.dumps(document))


def wheel(docroot):
    module = NAME.replace("-", "_")
    file_name = f"{module}-{VERSION}-py3-none-any.whl"
    info = f"{module}-{VERSION}.dist-info"
    files = {
        f"{module}.py": "GREETING = 'hello from tiny-pkg'\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: airlock-tests\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
    }
    record = ""
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record += f"{path},sha256={digest.decode()},{len(text.encode())}\n"
    files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
    path = os.path.join(docroot, "packages", file_name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    sha256 = hashlib.sha256(open(path, "rb").read()).hexdigest()
    page = "<!DOCTYPE html>\n<html><body>\n{}\n</body></html>\n"
    write(os.path.join(docroot, "simple", "index.html"),
          page.format(f'<a href="/simple/{NAME}/">{NAME}</a>'))
    write(os.path.join(docroot, "simple", NAME, "index.html"),
          page.format(f'<a href="/packages/{file_name}#sha256={sha256}">{file_name}</a>'))


npm_package(os.path.join(STATE, "docroot", "registry.example.test"))
wheel(os.path.join(STATE, "docroot", "pypi.example.test"))
