#!/usr/bin/perl
# Shows that data/converted/<name>-ort.npy are ONNX Runtime's outputs for exactly the committed
# converted models (and the float32 originals) on the committed test images:
# tools/convert/ort_converted.js recorded the SHA-256 of every model, the input file and every
# output it wrote (data/converted/ort.json); they must match the files now.
#   ort_provenance.pl DATA_CONVERTED_DIR
use strict;
use warnings;
use JSON::PP;
use Digest::SHA;

my $dir = shift or die "usage: ort_provenance.pl DATA_CONVERTED_DIR\n";
sub slurp { local $/; open(my $f, '<', $_[0]) or die "$_[0]: $!\n"; binmode $f; return <$f>; }
my $ort = decode_json(slurp("$dir/ort.json"));
my $failures = 0;
sub fail { print "FAIL $_[0]\n"; $failures++; }
sub check_sha {
  my ($what, $file, $want) = @_;
  my $sha = Digest::SHA->new(256)->addfile("$dir/$file", 'b')->hexdigest;
  $sha eq $want or fail("$what: $file has SHA-256 $sha, ONNX Runtime saw $want");
}

$ort->{runtime} eq 'onnxruntime-node' && $ort->{version} =~ /^\d+\.\d+\.\d+$/
  or fail("ort.json does not name the runtime and its version");
$ort->{session}{graphOptimizationLevel} eq 'disabled' or fail("ort.json: the session optimised the graph");
check_sha('input', $ort->{input}{file}, $ort->{input}{sha256});
my @expected = qw(cnn_fp16 cnn_fp32 cnn_keep mlp_fp16 mlp_fp32 vit_fp16 vit_fp32);
for my $name (@expected) {
  my $rec = $ort->{models}{$name} or do { fail("$name: no ONNX Runtime record"); next };
  check_sha($name, $rec->{model}{file}, $rec->{model}{sha256});
  check_sha($name, $rec->{output}{file}, $rec->{output}{sha256});
  join(',', @{ $rec->{output}{shape} }) eq "$ort->{input}{samples},10" or fail("$name: output shape @{ $rec->{output}{shape} }");
}
print "ONNX Runtime $ort->{version}: ", scalar(@expected), " models on $ort->{input}{samples} images, outputs match their files\n"
  unless $failures;
exit($failures ? 1 : 0);
