// Element table. Atomic weights: standard atomic weights (IUPAC, as tabulated by NIST,
// "Atomic Weights and Isotopic Compositions", 2005 values; mass number of the longest-lived
// isotope for elements without a standard weight). These are the weights that convert the
// per-atom XCOM and Seltzer-Berger cross sections to per-gram values.
#include "physics/tables/elements.hh"

#include <algorithm>
#include <cctype>

namespace sabre::phys::tables {
namespace {

const ElementInfo kElements[kMaxZ] = {
    {1, "H", "hydrogen", "hydrogen", 1.00794},
    {2, "He", "helium", "helium", 4.002602},
    {3, "Li", "lithium", "lithium", 6.941},
    {4, "Be", "beryllium", "beryllium", 9.012182},
    {5, "B", "boron", "boron", 10.811},
    {6, "C", "carbon", "carbon_graphite_1.700g_cm3", 12.0107},
    {7, "N", "nitrogen", "nitrogen", 14.0067},
    {8, "O", "oxygen", "oxygen", 15.9994},
    {9, "F", "fluorine", "fluorine", 18.9984032},
    {10, "Ne", "neon", "neon", 20.1797},
    {11, "Na", "sodium", "sodium", 22.98977},
    {12, "Mg", "magnesium", "magnesium", 24.305},
    {13, "Al", "aluminum", "aluminum", 26.981538},
    {14, "Si", "silicon", "silicon", 28.0855},
    {15, "P", "phosphorus", "phosphorus", 30.973761},
    {16, "S", "sulfur", "sulfur", 32.065},
    {17, "Cl", "chlorine", "chlorine", 35.453},
    {18, "Ar", "argon", "argon", 39.948},
    {19, "K", "potassium", "potassium", 39.0983},
    {20, "Ca", "calcium", "calcium", 40.078},
    {21, "Sc", "scandium", "scandium", 44.95591},
    {22, "Ti", "titanium", "titanium", 47.867},
    {23, "V", "vanadium", "vanadium", 50.9415},
    {24, "Cr", "chromium", "chromium", 51.9961},
    {25, "Mn", "manganese", "manganese", 54.938049},
    {26, "Fe", "iron", "iron", 55.845},
    {27, "Co", "cobalt", "cobalt", 58.9332},
    {28, "Ni", "nickel", "nickel", 58.6934},
    {29, "Cu", "copper", "copper", 63.546},
    {30, "Zn", "zinc", "zinc", 65.409},
    {31, "Ga", "gallium", "gallium", 69.723},
    {32, "Ge", "germanium", "germanium", 72.64},
    {33, "As", "arsenic", "arsenic", 74.9216},
    {34, "Se", "selenium", "selenium", 78.96},
    {35, "Br", "bromine", "bromine", 79.904},
    {36, "Kr", "krypton", "krypton", 83.798},
    {37, "Rb", "rubidium", "rubidium", 85.4678},
    {38, "Sr", "strontium", "strontium", 87.62},
    {39, "Y", "yttrium", "yttrium", 88.90585},
    {40, "Zr", "zirconium", "zirconium", 91.224},
    {41, "Nb", "niobium", "niobium", 92.90638},
    {42, "Mo", "molybdenum", "molybdenum", 95.94},
    {43, "Tc", "technetium", "technetium", 98.0},
    {44, "Ru", "ruthenium", "ruthenium", 101.07},
    {45, "Rh", "rhodium", "rhodium", 102.9055},
    {46, "Pd", "palladium", "palladium", 106.42},
    {47, "Ag", "silver", "silver", 107.8682},
    {48, "Cd", "cadmium", "cadmium", 112.411},
    {49, "In", "indium", "indium", 114.818},
    {50, "Sn", "tin", "tin", 118.71},
    {51, "Sb", "antimony", "antimony", 121.76},
    {52, "Te", "tellurium", "tellurium", 127.6},
    {53, "I", "iodine", "iodine", 126.90447},
    {54, "Xe", "xenon", "xenon", 131.293},
    {55, "Cs", "cesium", "cesium", 132.90545},
    {56, "Ba", "barium", "barium", 137.327},
    {57, "La", "lanthanum", "lanthanum", 138.9055},
    {58, "Ce", "cerium", "cerium", 140.116},
    {59, "Pr", "praseodymium", "praseodymium", 140.90765},
    {60, "Nd", "neodymium", "neodymium", 144.24},
    {61, "Pm", "promethium", "promethium", 145.0},
    {62, "Sm", "samarium", "samarium", 150.36},
    {63, "Eu", "europium", "europium", 151.964},
    {64, "Gd", "gadolinium", "gadolinium", 157.25},
    {65, "Tb", "terbium", "terbium", 158.92534},
    {66, "Dy", "dysprosium", "dysprosium", 162.5},
    {67, "Ho", "holmium", "holmium", 164.93032},
    {68, "Er", "erbium", "erbium", 167.259},
    {69, "Tm", "thulium", "thulium", 168.93421},
    {70, "Yb", "ytterbium", "ytterbium", 173.04},
    {71, "Lu", "lutetium", "lutetium", 174.967},
    {72, "Hf", "hafnium", "hafnium", 178.49},
    {73, "Ta", "tantalum", "tantalum", 180.9479},
    {74, "W", "tungsten", "tungsten", 183.84},
    {75, "Re", "rhenium", "rhenium", 186.207},
    {76, "Os", "osmium", "osmium", 190.23},
    {77, "Ir", "iridium", "iridium", 192.217},
    {78, "Pt", "platinum", "platinum", 195.078},
    {79, "Au", "gold", "gold", 196.96655},
    {80, "Hg", "mercury", "mercury", 200.59},
    {81, "Tl", "thallium", "thallium", 204.3833},
    {82, "Pb", "lead", "lead", 207.2},
    {83, "Bi", "bismuth", "bismuth", 208.98038},
    {84, "Po", "polonium", "polonium", 209.0},
    {85, "At", "astatine", "astatine", 210.0},
    {86, "Rn", "radon", "radon", 222.0},
    {87, "Fr", "francium", "francium", 223.0},
    {88, "Ra", "radium", "radium", 226.0},
    {89, "Ac", "actinium", "actinium", 227.0},
    {90, "Th", "thorium", "thorium", 232.0381},
    {91, "Pa", "protactinium", "protactinium", 231.03588},
    {92, "U", "uranium", "uranium", 238.02891},
    {93, "Np", "neptunium", "neptunium", 237.0},
    {94, "Pu", "plutonium", "plutonium", 244.0},
    {95, "Am", "americium", "americium", 243.0},
    {96, "Cm", "curium", "curium", 247.0},
    {97, "Bk", "berkelium", "berkelium", 247.0},
    {98, "Cf", "californium", "californium", 251.0},
    {99, "Es", "einsteinium", "einsteinium", 252.0},
    {100, "Fm", "fermium", "fermium", 257.0},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const ElementInfo* element_by_z(int z) {
  return (z >= 1 && z <= kMaxZ) ? &kElements[z - 1] : nullptr;
}

const ElementInfo* find_element(const std::string& symbol_or_name) {
  const std::string l = lower(symbol_or_name);
  if (l == "aluminium") return element_by_z(13);
  if (l == "caesium") return element_by_z(55);
  if (l == "sulphur") return element_by_z(16);
  for (const auto& e : kElements)
    if (l == lower(e.symbol) || l == e.name) return &e;
  return nullptr;
}

}  // namespace sabre::phys::tables
