#!/usr/bin/perl
# Shows that data/zoo/<name>-ort.npy are ONNX Runtime's outputs for exactly the committed models
# and inputs: tools/zoo/ort_outputs.js recorded the SHA-256 of every model, input and output
# file it used and wrote (data/zoo/ort.json); they must match the files now, and every model of
# zoo.json must have its record.
#   ort_provenance.pl DATA_ZOO_DIR
use strict;
use warnings;
use JSON::PP;
use Digest::SHA;

my $dir = shift or die "usage: ort_provenance.pl DATA_ZOO_DIR\n";
sub slurp { local $/; open(my $f, '<', $_[0]) or die "$_[0]: $!\n"; binmode $f; return <$f>; }
my $ort = decode_json(slurp("$dir/ort.json"));
my $zoo = decode_json(slurp("$dir/zoo.json"));
my $failures = 0;
sub fail { print "FAIL $_[0]\n"; $failures++; }

$ort->{runtime} eq 'onnxruntime-node' && $ort->{version} =~ /^\d+\.\d+\.\d+$/
  or fail("ort.json does not name the runtime and its version");
for my $name (sort keys %{ $zoo->{models} }) {
  my $rec = $ort->{models}{$name} or do { fail("$name: no ONNX Runtime record"); next };
  $rec->{model}{file} eq $zoo->{models}{$name}{file} or fail("$name: ort.json ran $rec->{model}{file}");
  for my $f ($rec->{model}, @{ $rec->{inputs} }, $rec->{output}) {
    my $sha = Digest::SHA->new(256)->addfile("$dir/$f->{file}", 'b')->hexdigest;
    $sha eq $f->{sha256} or fail("$name: $f->{file} has SHA-256 $sha, ONNX Runtime saw $f->{sha256}");
  }
}
print "ONNX Runtime $ort->{version}: ", scalar(keys %{ $zoo->{models} }), " models, outputs match their files\n"
  unless $failures;
exit($failures ? 1 : 0);
