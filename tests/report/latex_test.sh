#!/usr/bin/env bash
# Compiles the LaTeX golden files (booktabs tables as fpaudit writes them) in a minimal document,
# so that an escaping mistake is an error here, not in someone's paper. Exit 77 (ctest: skipped)
# without pdflatex (Debian: texlive-latex-base texlive-latex-recommended, which scripts/install-deps
# installs).
#   latex_test.sh GOLDEN_DIR
set -euo pipefail
golden=$1
if ! command -v pdflatex >/dev/null; then
  echo "pdflatex is not installed: LaTeX compile test skipped"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$golden"/*.tex "$tmp"/
tables=("$tmp"/*.tex)
{
  echo '\documentclass{article}'
  echo '\usepackage{booktabs}'
  echo '\begin{document}'
  for f in "${tables[@]}"; do echo "\\input{$(basename "$f" .tex)}\\clearpage"; done
  echo '\end{document}'
} >"$tmp/main.tex"
if ! (cd "$tmp" && pdflatex -interaction=nonstopmode -halt-on-error main.tex >main.out 2>&1); then
  grep -A3 '^!' "$tmp/main.out" | head -20
  exit 1
fi
# Characters pdfLaTeX cannot typeset are warnings, not errors: fail on them too.
if grep -E 'Missing character|not set up for use with LaTeX' "$tmp/main.log"; then exit 1; fi
echo "compiled: $(cd "$golden" && ls -- *.tex | tr '\n' ' ')"
