# mknpy.pl OUT DTYPE SHAPE VALUE...: writes a small .npy for the cli tests (no Python needed).
# SHAPE like 2,1,28,28; VALUEs repeat cyclically to fill the array ("nan" allowed).
my ($out, $dtype, $shape, @vals) = @ARGV;
my @dims = split /,/, $shape;
my $n = 1; $n *= $_ for @dims;
my $shape_txt = "(" . join(", ", @dims) . (@dims == 1 ? "," : "") . ")";
my $header = "{'descr': '<$dtype', 'fortran_order': False, 'shape': $shape_txt, }";
my $total = 10 + length($header) + 1;
$header .= " " x ((64 - $total % 64) % 64) . "\n";
open(my $f, ">:raw", $out) or die;
print $f "\x93NUMPY\x01\x00" . pack("v", length($header)) . $header;
for my $i (0 .. $n - 1) {
  my $v = $vals[$i % @vals];
  print $f ($dtype eq 'f4' ? pack("f<", $v eq 'nan' ? 9**9**9 / 9**9**9 : $v) : pack("q<", $v));
}
