"""``stackfleet render``: print the desired objects of every cluster, deterministically.

Objects are ordered by destination cluster, layer, bundle (cluster, stack, bundle name), then within a
bundle pre hooks, objects (kind rank, namespace, name) and post hooks. A bundle that fails to render
is reported on stderr (naming the bundle and file) and makes the exit code 1; the others are printed.
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler import settings
from reconciler.cli.options import EXIT_ERROR, fleet_option, output_option, require_known
from reconciler.render import fleet, helm, sops, streams
from reconciler.render.cache import Cache
from reconciler.render.capabilities import DEFAULT_KUBE_VERSION, Capabilities
from reconciler.source import opening
from reconciler.spec import loader


@click.command("render")
@fleet_option
@click.option(
    "--cluster", "clusters", multiple=True, metavar="C", help="Only objects going to cluster C (repeatable)."
)
@click.option(
    "--bundle", "bundles", multiple=True, metavar="B", help="Only bundle B or STACK/B (repeatable)."
)
@output_option("yaml", "json", default="yaml")
@click.option("--show-secrets", is_flag=True, help="Print Secret values in clear (masked by default).")
@click.option(
    "--revision", default=None, metavar="R", help="Render the fleet repo at Git ref R (same as --fleet F@R)."
)
@click.option(
    "--kube-version", default=DEFAULT_KUBE_VERSION, show_default=True, help="For .Capabilities.KubeVersion."
)
@click.option(
    "--api-versions",
    "api_versions",
    multiple=True,
    metavar="G/V[/KIND]",
    help="Extra .Capabilities.APIVersions.",
)
@click.option(
    "--cache-dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Keep Helm and Kustomize renders here.",
)
@click.option(
    "--plain-http-registry",
    "plain_http",
    multiple=True,
    metavar="HOST:PORT",
    help="OCI registry over plain HTTP.",
)
def command(
    fleet: str,
    path: str,
    clusters: tuple[str, ...],
    bundles: tuple[str, ...],
    output: str,
    revision: str | None,
    kube_version: str,
    api_versions: tuple[str, ...],
    cache_dir: str | None,
    plain_http: tuple[str, ...],
    show_secrets: bool,
) -> None:
    """Render the desired objects of the fleet (all clusters, or --cluster) as YAML or JSON."""
    repo = loader.load(opening.open_tree(f"{fleet}@{revision}" if revision else fleet, path=path))
    options = fleet_options(
        kube_version=kube_version, api_versions=api_versions, cache_dir=cache_dir, plain_http=plain_http
    )
    result = fleet_render(repo, options=options, clusters=clusters, bundles=bundles)
    write = streams.to_json if output == "json" else streams.to_yaml
    click.echo(write(result, show_secrets=show_secrets), nl=False)
    for failure in result.failures:
        click.echo(f"error: {failure.error}", err=True)
    if result.failures:
        raise click.exceptions.Exit(EXIT_ERROR)


def fleet_options(
    *, kube_version: str, api_versions: tuple[str, ...], cache_dir: str | None, plain_http: tuple[str, ...]
) -> fleet.Options:
    return fleet.Options(
        default_capabilities=Capabilities(kube_version=kube_version, api_versions=api_versions),
        cache=Cache(directory=cache_dir),
        fetcher=helm.Fetcher(
            plain_http_hosts=frozenset(plain_http), cache_dir=Path(cache_dir) if cache_dir else None
        ),
        age_keys=sops.AgeKeys.parse(settings.sops_age_keys()),
    )


def fleet_render(
    repo: loader.FleetRepo, *, options: fleet.Options, clusters: tuple[str, ...], bundles: tuple[str, ...]
) -> fleet.FleetRender:
    require_known(clusters, repo.clusters, what="cluster", hint="--cluster")
    require_known(bundles, bundle_names(repo), what="bundle", hint="--bundle")
    return fleet.render(repo, options=options, clusters=clusters or None, bundles=bundles or None)


def bundle_names(repo: loader.FleetRepo) -> set[str]:
    """Every name ``--bundle`` accepts: ``BUNDLE`` and ``STACK/BUNDLE`` of every stack version."""
    names: set[str] = set()
    for stack, versions in repo.stacks.items():
        for located in versions.values():
            for bundle in located.model.spec.bundles:
                names |= {bundle.name, f"{stack}/{bundle.name}"}
    return names
