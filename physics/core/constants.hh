// Physical constants [CODATA 2018 recommended values, NIST SP 961 (2019)].
#pragma once

namespace sabre::phys {

inline constexpr double kElectronMassMeV = 0.51099895000;      // m_e c^2 [MeV]
inline constexpr double kClassicalElectronRadiusCm = 2.8179403262e-13;  // r_e [cm]
inline constexpr double kAvogadro = 6.02214076e23;              // N_A [1/mol]
inline constexpr double kFineStructure = 7.2973525693e-3;       // alpha
inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kTwoPi = 2 * kPi;
inline constexpr double kBarnCm2 = 1e-24;                       // 1 b [cm^2]
inline constexpr double kMeVToJoule = 1.602176634e-13;          // 1 MeV [J]

}  // namespace sabre::phys
