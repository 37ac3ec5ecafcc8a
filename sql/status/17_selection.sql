-- status: the selection in force (stage, ok, failed, pending, note), one row only when a subset is selected:
-- ok is the images it picks, note how many of all; convert and label below count only the selection; grain
-- stage; reads stg.selected_images, stg.images, meta.selection.
SELECT 'selection: images' AS stage,
       (SELECT count(*) FROM stg.selected_images) AS ok,
       0 AS failed,
       0 AS pending,
       'of ' || CAST((SELECT count(*) FROM stg.images) AS VARCHAR)
           || ' readable images (meta.selection; convert and label count only these)' AS note
WHERE EXISTS (SELECT 1 FROM meta.selection)
