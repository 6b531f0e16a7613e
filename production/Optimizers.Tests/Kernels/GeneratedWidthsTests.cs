namespace Optimizers.Tests.Kernels;

/// <summary>
/// KernelDriver256/128 and VectorConvert256/128 are the 512-bit templates with the widths halved
/// (Kernels/Simd/generate-widths.sh). An edit to a generated file, or a template edit without regenerating,
/// would make one width run different code from the others; this fails until the script is rerun.
/// </summary>
public class GeneratedWidthsTests
{
    // From the test binaries up to the checkout, not [CallerFilePath]: CI's deterministic build maps source paths to /_/.
    static string SimdFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Optimizers.sln")))
                return Path.Combine(dir.FullName, "production", "Optimizers", "Kernels", "Simd");
        throw new DirectoryNotFoundException("no folder above the test binaries holds Optimizers.sln");
    }

    [Theory]
    [InlineData("KernelDriver")]
    [InlineData("VectorConvert")]
    public void The_256_and_128_bit_files_are_the_512_bit_template_regenerated(string name)
    {
        string folder = SimdFolder();
        string template = File.ReadAllText(Path.Combine(folder, $"{name}512.cs"));
        string header = $"// Generated from {name}512.cs by generate-widths.sh: edit that file, not this one.";
        string Halve(string from, string to, string fromHalf, string toHalf)
        {
            string text = template.Replace(fromHalf, toHalf).Replace(from, to);
            int end = text.IndexOf('\n');
            return header + text[end..];
        }
        Assert.Equal(Halve("512", "256", "256", "128"), File.ReadAllText(Path.Combine(folder, $"{name}256.cs")));
        Assert.Equal(Halve("512", "128", "256", "64"), File.ReadAllText(Path.Combine(folder, $"{name}128.cs")));
    }
}
