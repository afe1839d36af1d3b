+ MAYAVERSION:2022 PLATFORM:win64 FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2022 PLATFORM:linux FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2022 PLATFORM:mac FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2023 PLATFORM:win64 FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2023 PLATFORM:linux FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2023 PLATFORM:mac FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2024 PLATFORM:win64 FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2024 PLATFORM:linux FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2024 PLATFORM:mac FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2025 PLATFORM:win64 FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2025 PLATFORM:linux FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2025 PLATFORM:mac FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2026 PLATFORM:win64 FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2026 PLATFORM:linux FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves

+ MAYAVERSION:2026 PLATFORM:mac FaceRetarget 0.1.0 .
scripts: scripts
plug-ins: maya_module/plug-ins
icons: maya_module/icons
MAYA_SHELF_PATH+:=shelves
